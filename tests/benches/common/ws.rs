//! A protocol peer over a real WebSocket for the benchmarks: join, push a document's sync
//! message, apply what the server sends.

use automerge::Automerge;
use automerge::sync::{State, SyncDoc};
use futures_util::{SinkExt, StreamExt};
use nachbar_core::ids::DocumentId;
use nachbar_core::protocol::{Limits, Message, PeerId};
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// The socket.
pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One joined connection.
pub(crate) struct Conn {
    pub(crate) ws: Socket,
    pub(crate) me: PeerId,
    pub(crate) server: PeerId,
}

impl Conn {
    /// Connects with `token` and joins as `me` (panics when refused).
    pub(crate) async fn open(port: u16, token: &str, me: &str) -> Conn {
        let mut req = format!("ws://127.0.0.1:{port}/sync")
            .into_client_request()
            .unwrap();
        req.headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("upgrade");
        let me = PeerId(me.to_owned());
        let join = Message::Join {
            sender_id: me.clone(),
            supported_protocol_versions: Some(vec!["1".into()]),
            peer_metadata: None,
        };
        ws.send(Ws::Binary(join.encode().into())).await.unwrap();
        let server = match Conn::next_message(&mut ws).await {
            Some(Message::Peer { sender_id, .. }) => sender_id,
            other => panic!("{other:?}"),
        };
        Conn { ws, me, server }
    }

    /// The next protocol message; `None` when the connection ended.
    pub(crate) async fn next_message(ws: &mut Socket) -> Option<Message> {
        while let Some(frame) = ws.next().await {
            if let Ok(Ws::Binary(b)) = frame {
                return Message::decode(&b, &Limits::default()).ok();
            }
        }
        None
    }

    /// Sends our next sync message of `id`; false when there was none or the socket failed.
    pub(crate) async fn push(
        &mut self,
        id: DocumentId,
        doc: &Automerge,
        state: &mut State,
    ) -> bool {
        let Some(m) = doc.generate_sync_message(state) else {
            return false;
        };
        let (sender_id, target_id, data) = (self.me.clone(), self.server.clone(), m.encode());
        let msg = if doc.get_heads().is_empty() {
            Message::Request {
                sender_id,
                target_id,
                document_id: id,
                data,
            }
        } else {
            Message::Sync {
                sender_id,
                target_id,
                document_id: id,
                data,
            }
        };
        self.ws.send(Ws::Binary(msg.encode().into())).await.is_ok()
    }

    /// Applies the next sync message for `id`; false when the connection ended.
    pub(crate) async fn receive(&mut self, doc: &mut Automerge, state: &mut State) -> bool {
        match Conn::next_message(&mut self.ws).await {
            Some(Message::Sync { data, .. }) => {
                let m = automerge::sync::Message::decode(&data).unwrap();
                doc.receive_sync_message(state, m).unwrap();
                true
            }
            Some(_) => true,
            None => false,
        }
    }
}
