//! Every invalid input returns a typed error and leaves the document unchanged.
