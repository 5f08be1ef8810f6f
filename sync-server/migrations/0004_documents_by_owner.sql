-- Pages list a business's documents and a neighbourhood's documents of a kind.
CREATE INDEX documents_by_business ON documents(business, created_at);
CREATE INDEX documents_by_neighbourhood ON documents(neighbourhood, kind, created_at);
