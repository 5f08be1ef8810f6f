//! Encoding: plain CBOR maps with text keys and byte strings for data, as the JS peers write
//! them; the document id as its bs58check string.

use minicbor::Encoder;

use super::message::{Message, PeerId, PeerMetadata};

type Enc = Encoder<Vec<u8>>;
type R = Result<(), minicbor::encode::Error<std::convert::Infallible>>;

fn kv_str(e: &mut Enc, key: &str, value: &str) -> R {
    e.str(key)?.str(value)?;
    Ok(())
}

fn kv_peer(e: &mut Enc, key: &str, value: &PeerId) -> R {
    kv_str(e, key, &value.0)
}

fn metadata(e: &mut Enc, meta: &PeerMetadata) -> R {
    e.str("peerMetadata")?;
    let n = 1 + u64::from(meta.storage_id.is_some());
    e.map(n)?;
    if let Some(s) = &meta.storage_id {
        kv_str(e, "storageId", &s.0)?;
    }
    e.str("isEphemeral")?.bool(meta.is_ephemeral)?;
    Ok(())
}

fn strings<'a>(e: &mut Enc, key: &str, values: impl ExactSizeIterator<Item = &'a str>) -> R {
    e.str(key)?.array(values.len() as u64)?;
    for v in values {
        e.str(v)?;
    }
    Ok(())
}

fn write(e: &mut Enc, m: &Message) -> R {
    match m {
        Message::Join {
            sender_id,
            supported_protocol_versions,
            peer_metadata,
        } => {
            let n = 2
                + u64::from(supported_protocol_versions.is_some())
                + u64::from(peer_metadata.is_some());
            e.map(n)?;
            kv_str(e, "type", "join")?;
            kv_peer(e, "senderId", sender_id)?;
            if let Some(v) = supported_protocol_versions {
                strings(e, "supportedProtocolVersions", v.iter().map(String::as_str))?;
            }
            if let Some(meta) = peer_metadata {
                metadata(e, meta)?;
            }
        }
        Message::Peer {
            sender_id,
            target_id,
            selected_protocol_version,
            peer_metadata,
        } => {
            e.map(4 + u64::from(peer_metadata.is_some()))?;
            kv_str(e, "type", "peer")?;
            kv_peer(e, "senderId", sender_id)?;
            kv_peer(e, "targetId", target_id)?;
            kv_str(e, "selectedProtocolVersion", selected_protocol_version)?;
            if let Some(meta) = peer_metadata {
                metadata(e, meta)?;
            }
        }
        Message::Error {
            message,
            sender_id,
            target_id,
        } => {
            e.map(2 + u64::from(sender_id.is_some()) + u64::from(target_id.is_some()))?;
            kv_str(e, "type", "error")?;
            kv_str(e, "message", message)?;
            if let Some(s) = sender_id {
                kv_peer(e, "senderId", s)?;
            }
            if let Some(t) = target_id {
                kv_peer(e, "targetId", t)?;
            }
        }
        Message::Leave { sender_id } => {
            e.map(2)?;
            kv_str(e, "type", "leave")?;
            kv_peer(e, "senderId", sender_id)?;
        }
        Message::Request {
            sender_id,
            target_id,
            document_id,
            data,
        }
        | Message::Sync {
            sender_id,
            target_id,
            document_id,
            data,
        } => {
            e.map(5)?;
            kv_str(e, "type", m.type_name())?;
            kv_peer(e, "senderId", sender_id)?;
            kv_peer(e, "targetId", target_id)?;
            kv_str(e, "documentId", &document_id.to_string())?;
            e.str("data")?.bytes(data)?;
        }
        Message::DocUnavailable {
            sender_id,
            target_id,
            document_id,
        } => {
            e.map(4)?;
            kv_str(e, "type", "doc-unavailable")?;
            kv_peer(e, "senderId", sender_id)?;
            kv_peer(e, "targetId", target_id)?;
            kv_str(e, "documentId", &document_id.to_string())?;
        }
        Message::Ephemeral {
            sender_id,
            target_id,
            document_id,
            session_id,
            count,
            data,
        } => {
            e.map(7)?;
            kv_str(e, "type", "ephemeral")?;
            kv_peer(e, "senderId", sender_id)?;
            kv_peer(e, "targetId", target_id)?;
            kv_str(e, "documentId", &document_id.to_string())?;
            kv_str(e, "sessionId", session_id)?;
            e.str("count")?.u64(*count)?;
            e.str("data")?.bytes(data)?;
        }
        Message::RemoteSubscriptionChange {
            sender_id,
            target_id,
            add,
            remove,
        } => {
            e.map(5)?;
            kv_str(e, "type", "remote-subscription-change")?;
            kv_peer(e, "senderId", sender_id)?;
            kv_peer(e, "targetId", target_id)?;
            strings(e, "add", add.iter().map(|s| s.0.as_str()))?;
            strings(e, "remove", remove.iter().map(|s| s.0.as_str()))?;
        }
        Message::RemoteHeadsChanged {
            sender_id,
            target_id,
            document_id,
            new_heads,
        } => {
            e.map(5)?;
            kv_str(e, "type", "remote-heads-changed")?;
            kv_peer(e, "senderId", sender_id)?;
            kv_peer(e, "targetId", target_id)?;
            kv_str(e, "documentId", &document_id.to_string())?;
            e.str("newHeads")?.map(new_heads.len() as u64)?;
            for (storage, heads) in new_heads {
                e.str(storage)?.map(2)?;
                strings(e, "heads", heads.heads.iter().map(String::as_str))?;
                e.str("timestamp")?.u64(heads.timestamp)?;
            }
        }
    }
    Ok(())
}

impl Message {
    /// Encodes the message as one CBOR map.
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::new(Vec::new());
        // Writing into a Vec cannot fail and every value written is valid CBOR.
        #[allow(clippy::expect_used)]
        write(&mut e, self).expect("encoding into a Vec never fails");
        e.into_writer()
    }
}
