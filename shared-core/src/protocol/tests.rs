//! Codec tests: round trips of every message, the liberal input of JS peers, and the strict
//! refusals of malformed or hostile input.

use std::collections::BTreeMap;

use minicbor::Encoder;
use proptest::prelude::*;

use super::*;
use crate::ids::DocumentId;

fn limits() -> Limits {
    Limits::default()
}

fn peer(s: &str) -> PeerId {
    PeerId(s.to_owned())
}

prop_compose! {
    fn doc_id()(bytes in any::<[u8; 16]>()) -> DocumentId { DocumentId::from_bytes(bytes) }
}

fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9äöü -]{0,24}"
}

fn meta() -> impl Strategy<Value = Option<PeerMetadata>> {
    proptest::option::of(
        (proptest::option::of(text()), any::<bool>()).prop_map(|(s, e)| PeerMetadata {
            storage_id: s.map(StorageId),
            is_ephemeral: e,
        }),
    )
}

fn data() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 1..64)
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        (
            text(),
            proptest::option::of(proptest::collection::vec(text(), 0..3)),
            meta()
        )
            .prop_map(|(s, v, m)| {
                Message::Join {
                    sender_id: PeerId(s),
                    supported_protocol_versions: v,
                    peer_metadata: m,
                }
            }),
        (text(), text(), text(), meta()).prop_map(|(s, t, v, m)| Message::Peer {
            sender_id: PeerId(s),
            target_id: PeerId(t),
            selected_protocol_version: v,
            peer_metadata: m
        }),
        (
            text(),
            proptest::option::of(text()),
            proptest::option::of(text())
        )
            .prop_map(|(m, s, t)| Message::Error {
                message: m,
                sender_id: s.map(PeerId),
                target_id: t.map(PeerId)
            }),
        text().prop_map(|s| Message::Leave {
            sender_id: PeerId(s)
        }),
        (text(), text(), doc_id(), data()).prop_map(|(s, t, d, x)| Message::Request {
            sender_id: PeerId(s),
            target_id: PeerId(t),
            document_id: d,
            data: x
        }),
        (text(), text(), doc_id(), data()).prop_map(|(s, t, d, x)| Message::Sync {
            sender_id: PeerId(s),
            target_id: PeerId(t),
            document_id: d,
            data: x
        }),
        (text(), text(), doc_id()).prop_map(|(s, t, d)| Message::DocUnavailable {
            sender_id: PeerId(s),
            target_id: PeerId(t),
            document_id: d
        }),
        (text(), text(), doc_id(), text(), any::<u64>(), data()).prop_map(
            |(s, t, d, sess, c, x)| Message::Ephemeral {
                sender_id: PeerId(s),
                target_id: PeerId(t),
                document_id: d,
                session_id: sess,
                count: c,
                data: x
            }
        ),
        (
            text(),
            text(),
            proptest::collection::vec(text(), 0..3),
            proptest::collection::vec(text(), 0..3)
        )
            .prop_map(|(s, t, a, r)| Message::RemoteSubscriptionChange {
                sender_id: PeerId(s),
                target_id: PeerId(t),
                add: a.into_iter().map(StorageId).collect(),
                remove: r.into_iter().map(StorageId).collect()
            }),
        (
            text(),
            text(),
            doc_id(),
            proptest::collection::btree_map(
                text(),
                (proptest::collection::vec(text(), 0..3), any::<u64>()),
                0..3
            )
        )
            .prop_map(|(s, t, d, h)| Message::RemoteHeadsChanged {
                sender_id: PeerId(s),
                target_id: PeerId(t),
                document_id: d,
                new_heads: h
                    .into_iter()
                    .map(|(k, (heads, timestamp))| (k, RemoteHeads { heads, timestamp }))
                    .collect()
            }),
    ]
}

proptest! {
    #[test]
    fn every_message_round_trips(m in message()) {
        let bytes = m.encode();
        prop_assert_eq!(Message::decode(&bytes, &limits()).expect("decodes"), m);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = Message::decode(&bytes, &limits());
    }

    #[test]
    fn truncated_messages_are_refused(m in message(), cut in any::<prop::sample::Index>()) {
        let bytes = m.encode();
        let at = cut.index(bytes.len());
        prop_assert!(Message::decode(&bytes[..at], &limits()).is_err());
    }
}

/// Writes one CBOR value.
type Write<'a> = dyn Fn(&mut Encoder<Vec<u8>>) + 'a;

/// Writes a map with the given entries; values are written by closures.
fn map(entries: &[(&str, &Write<'_>)]) -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    e.map(entries.len() as u64).unwrap();
    for (k, v) in entries {
        e.str(k).unwrap();
        v(&mut e);
    }
    e.into_writer()
}

#[test]
fn js_style_input_is_accepted() {
    let id = DocumentId::from_bytes([3; 16]);
    let id_text = id.to_string();
    // count as float64, an undefined optional, an unknown key, documentId as a string.
    let bytes = map(&[
        ("type", &|e| {
            e.str("ephemeral").unwrap();
        }),
        ("senderId", &|e| {
            e.str("peer-abc").unwrap();
        }),
        ("targetId", &|e| {
            e.str("server").unwrap();
        }),
        ("documentId", &|e| {
            e.str(&id_text).unwrap();
        }),
        ("sessionId", &|e| {
            e.str("s1").unwrap();
        }),
        ("count", &|e| {
            e.f64(42.0).unwrap();
        }),
        ("data", &|e| {
            e.bytes(&[0xa0]).unwrap();
        }),
        ("futureField", &|e| {
            e.array(2).unwrap().u8(1).unwrap().str("x").unwrap();
        }),
    ]);
    match Message::decode(&bytes, &limits()).unwrap() {
        Message::Ephemeral {
            count, document_id, ..
        } => {
            assert_eq!(count, 42);
            assert_eq!(document_id, id);
        }
        other => panic!("{other:?}"),
    }
    // join without supportedProtocolVersions, metadata under the README's key, storageId undefined.
    let bytes = map(&[
        ("type", &|e| {
            e.str("join").unwrap();
        }),
        ("senderId", &|e| {
            e.str("peer-1").unwrap();
        }),
        ("metadata", &|e| {
            e.map(2)
                .unwrap()
                .str("storageId")
                .unwrap()
                .undefined()
                .unwrap()
                .str("isEphemeral")
                .unwrap()
                .bool(true)
                .unwrap();
        }),
    ]);
    assert_eq!(
        Message::decode(&bytes, &limits()).unwrap(),
        Message::Join {
            sender_id: peer("peer-1"),
            supported_protocol_versions: None,
            peer_metadata: Some(PeerMetadata {
                storage_id: None,
                is_ephemeral: true
            })
        }
    );
    // documentId as 16 raw bytes, and as a legacy hyphenated UUID.
    let forms: Vec<Box<Write<'static>>> = vec![
        Box::new(|e| {
            e.bytes(&[3; 16]).unwrap();
        }),
        Box::new(|e| {
            e.str("03030303-0303-0303-0303-030303030303").unwrap();
        }),
    ];
    for write in &forms {
        let write: &Write<'_> = write.as_ref();
        let bytes = map(&[
            ("type", &|e| {
                e.str("doc-unavailable").unwrap();
            }),
            ("senderId", &|e| {
                e.str("a").unwrap();
            }),
            ("targetId", &|e| {
                e.null().unwrap();
                e.str("b").ok();
            }),
        ]);
        assert!(
            Message::decode(&bytes, &limits()).is_err(),
            "null then a stray value is not a map"
        );
        let bytes = map(&[
            ("type", &|e| {
                e.str("doc-unavailable").unwrap();
            }),
            ("senderId", &|e| {
                e.str("a").unwrap();
            }),
            ("targetId", &|e| {
                e.str("b").unwrap();
            }),
            ("documentId", write),
        ]);
        assert_eq!(
            Message::decode(&bytes, &limits()).unwrap().document_id(),
            Some(&id)
        );
    }
}

#[test]
fn hostile_and_malformed_input_is_refused() {
    let l = limits();
    let err = |bytes: &[u8]| Message::decode(bytes, &l).unwrap_err();
    assert_eq!(err(&[]), DecodeError::Empty);
    // 10,000-deep nesting.
    let mut deep = vec![0x81u8; 10_000];
    deep.push(0x00);
    assert_eq!(err(&deep), DecodeError::TooDeep(16));
    // An array declaring 2^62 elements in 9 bytes.
    assert!(matches!(
        err(&[0x9b, 0x40, 0, 0, 0, 0, 0, 0, 0]),
        DecodeError::InvalidCbor(_)
    ));
    // A byte string longer than the message, a reserved additional info, indefinite lengths.
    assert!(matches!(
        err(&[0xa1, 0x61, b'a', 0x5a, 0xff, 0xff, 0xff, 0xff]),
        DecodeError::InvalidCbor(_)
    ));
    assert!(matches!(err(&[0x1c]), DecodeError::InvalidCbor(_)));
    assert!(matches!(err(&[0xbf, 0xff]), DecodeError::InvalidCbor(_)));
    // Trailing bytes, not a map, non-text keys, duplicate keys.
    let mut two = Message::Leave {
        sender_id: peer("a"),
    }
    .encode();
    two.push(0x00);
    assert_eq!(err(&two), DecodeError::TrailingBytes);
    // Peer-chosen ids are bounded (the server keeps some per connection).
    let ephemeral = |session: String| Message::Ephemeral {
        sender_id: peer("a"),
        target_id: peer("b"),
        document_id: DocumentId::from_bytes([7; 16]),
        session_id: session,
        count: 1,
        data: vec![0xa0],
    };
    let at_bound = ephemeral("s".repeat(super::MAX_ID_BYTES)).encode();
    assert!(Message::decode(&at_bound, &l).is_ok());
    assert_eq!(
        err(&ephemeral("s".repeat(super::MAX_ID_BYTES + 1)).encode()),
        DecodeError::TextTooLong {
            field: "sessionId",
            max: super::MAX_ID_BYTES
        }
    );
    let long_peer = Message::Leave {
        sender_id: peer(&"p".repeat(10_000)),
    }
    .encode();
    assert!(matches!(
        err(&long_peer),
        DecodeError::TextTooLong {
            field: "senderId",
            ..
        }
    ));
    assert_eq!(err(&[0x83, 1, 2, 3]), DecodeError::NotAMap);
    assert_eq!(err(&[0xa1, 0x01, 0x02]), DecodeError::NonTextKey);
    let dup = map(&[
        ("type", &|e| {
            e.str("leave").unwrap();
        }),
        ("senderId", &|e| {
            e.str("a").unwrap();
        }),
        ("type", &|e| {
            e.str("join").unwrap();
        }),
    ]);
    assert_eq!(err(&dup), DecodeError::DuplicateKey("type".to_owned()));
    // Unknown type, missing fields, wrong field types, empty data, bad ids, too large.
    let unknown = map(&[("type", &|e| {
        e.str("teleport").unwrap();
    })]);
    assert_eq!(
        err(&unknown),
        DecodeError::UnknownType("teleport".to_owned())
    );
    let no_sender = map(&[("type", &|e| {
        e.str("leave").unwrap();
    })]);
    assert_eq!(err(&no_sender), DecodeError::MissingField("senderId"));
    let wrong = map(&[
        ("type", &|e| {
            e.str("leave").unwrap();
        }),
        ("senderId", &|e| {
            e.u32(7).unwrap();
        }),
    ]);
    assert!(matches!(
        err(&wrong),
        DecodeError::WrongType {
            field: "senderId",
            ..
        }
    ));
    let sync = |doc: &Write<'_>, data: &[u8]| {
        let data = data.to_vec();
        map(&[
            ("type", &|e| {
                e.str("sync").unwrap();
            }),
            ("senderId", &|e| {
                e.str("a").unwrap();
            }),
            ("targetId", &|e| {
                e.str("b").unwrap();
            }),
            ("documentId", doc),
            ("data", &move |e| {
                e.bytes(&data).unwrap();
            }),
        ])
    };
    let good_id = DocumentId::from_bytes([9; 16]).to_string();
    assert_eq!(
        err(&sync(
            &|e| {
                e.str(&good_id).unwrap();
            },
            &[]
        )),
        DecodeError::EmptyData
    );
    assert!(matches!(
        err(&sync(
            &|e| {
                e.str("not-base58-0OIl").unwrap();
            },
            &[1]
        )),
        DecodeError::InvalidDocumentId(_)
    ));
    assert!(matches!(
        err(&sync(
            &|e| {
                e.bytes(&[1; 8]).unwrap();
            },
            &[1]
        )),
        DecodeError::InvalidDocumentId(_)
    ));
    let big = sync(
        &|e| {
            e.str(&good_id).unwrap();
        },
        &[7; 64],
    );
    let small = Limits {
        max_message_bytes: 32,
        max_depth: 16,
    };
    assert!(Message::decode(&big, &small).unwrap_err().is_too_large());
    // A negative or fractional count.
    let bad_count = |write: &Write<'_>| {
        map(&[
            ("type", &|e| {
                e.str("ephemeral").unwrap();
            }),
            ("senderId", &|e| {
                e.str("a").unwrap();
            }),
            ("targetId", &|e| {
                e.str("b").unwrap();
            }),
            ("documentId", &|e| {
                e.str(&good_id).unwrap();
            }),
            ("sessionId", &|e| {
                e.str("s").unwrap();
            }),
            ("count", write),
            ("data", &|e| {
                e.bytes(&[1]).unwrap();
            }),
        ])
    };
    assert!(matches!(
        err(&bad_count(&|e| {
            e.f64(1.5).unwrap();
        })),
        DecodeError::WrongType { field: "count", .. }
    ));
    assert!(matches!(
        err(&bad_count(&|e| {
            e.i32(-1).unwrap();
        })),
        DecodeError::WrongType { field: "count", .. }
    ));
    let _ = BTreeMap::<String, RemoteHeads>::new();
}
