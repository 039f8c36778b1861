//! A Cap'n Proto RPC client written frame by frame, for the hostile test
//! guests: it sends what a well-behaved `RpcSystem` never would (pipelined
//! calls nobody reads, parameters whose pointers share data) straight onto
//! the cell's transport.

use capnp::message::{Builder, HeapAllocator, ReaderOptions};
use capnp::serialize::OwnedSegments;
use capnp_rpc::rpc_capnp::{message, payload, return_};
use futures::io::AsyncWriteExt;
use ww_guest::io::{StreamReader, StreamWriter};

/// Where a raw call goes.
#[derive(Clone, Copy)]
pub enum Target<'a> {
    /// A capability the host exported to this cell.
    Import(u32),
    /// The answer to an earlier question, down these pointer fields.
    Answer(u32, &'a [u16]),
}

/// What came back for a question.
pub enum Answer {
    /// Results, with the export ids of their capability table.
    Results(Vec<u32>, capnp::message::Reader<OwnedSegments>),
    /// The exception's reason.
    Exception(String),
}

/// The cell's raw transport.
pub struct RawVat {
    reader: StreamReader,
    writer: StreamWriter,
}

impl RawVat {
    /// Takes the cell's transport (it cannot also run a normal vat).
    ///
    /// # Errors
    ///
    /// When the transport was taken already.
    pub fn connect() -> Result<RawVat, ww_guest::Error> {
        let (reader, writer) = ww_guest::raw_transport()?;
        Ok(RawVat { reader, writer })
    }

    /// Writes one frame of serialized message bytes.
    ///
    /// # Errors
    ///
    /// When the host closed the transport.
    pub async fn write_frame(&mut self, frame: &[u8]) -> std::io::Result<()> {
        self.writer.write_all(frame).await?;
        self.writer.flush().await
    }

    /// Sends `Bootstrap` as question `q`.
    ///
    /// # Errors
    ///
    /// When the host closed the transport.
    pub async fn bootstrap(&mut self, q: u32) -> std::io::Result<()> {
        let mut m = Builder::new_default();
        m.init_root::<message::Builder>()
            .init_bootstrap()
            .set_question_id(q);
        self.write_frame(&frame(&m)).await
    }

    /// A `Call` frame: question `q` to `target`, with parameters written by
    /// `params` into the payload's content.
    ///
    /// # Errors
    ///
    /// When `params` fails.
    pub fn call_frame(
        q: u32,
        target: Target<'_>,
        interface: u64,
        method: u16,
        params: impl FnOnce(capnp::any_pointer::Builder<'_>) -> capnp::Result<()>,
    ) -> capnp::Result<Vec<u8>> {
        // One segment, large enough for any call here: the hostile guest
        // patches frames by offset.
        let mut m = Builder::new(HeapAllocator::new().first_segment_words(1 << 15));
        {
            let mut call = m.init_root::<message::Builder>().init_call();
            call.set_question_id(q);
            call.set_interface_id(interface);
            call.set_method_id(method);
            let mut t = call.reborrow().init_target();
            match target {
                Target::Import(id) => t.set_imported_cap(id),
                Target::Answer(question, fields) => {
                    let mut p = t.init_promised_answer();
                    p.set_question_id(question);
                    let mut ops = p.init_transform(fields.len() as u32);
                    for (i, f) in fields.iter().enumerate() {
                        ops.reborrow().get(i as u32).set_get_pointer_field(*f);
                    }
                }
            }
            let content: payload::Builder<'_> = call.init_params();
            params(content.init_content())?;
        }
        Ok(frame(&m))
    }

    /// Reads frames until the next `Return`, and returns its question id
    /// and what it says.
    ///
    /// # Errors
    ///
    /// When the host closed the transport or sent an `Abort`.
    pub async fn next_answer(&mut self) -> Result<(u32, Answer), Box<dyn std::error::Error>> {
        loop {
            let read =
                capnp_futures::serialize::try_read_message(&mut self.reader, ReaderOptions::new())
                    .await?;
            let Some(read) = read else {
                return Err("the host closed the transport".into());
            };
            let (id, ids) = {
                let root = read.get_root::<message::Reader>()?;
                match root.which()? {
                    message::Abort(e) => {
                        return Err(format!("host aborted: {}", e?.get_reason()?.to_str()?).into())
                    }
                    message::Return(r) => {
                        let r = r?;
                        let id = r.get_answer_id();
                        match r.which()? {
                            return_::Results(p) => {
                                let mut ids = Vec::new();
                                for d in p?.get_cap_table()? {
                                    use capnp_rpc::rpc_capnp::cap_descriptor::Which;
                                    ids.push(match d.which()? {
                                        Which::SenderHosted(id) | Which::SenderPromise(id) => id,
                                        _ => u32::MAX,
                                    });
                                }
                                (id, ids)
                            }
                            return_::Exception(e) => {
                                let reason = e?.get_reason()?.to_string()?;
                                return Ok((id, Answer::Exception(reason)));
                            }
                            _ => (id, Vec::new()),
                        }
                    }
                    _ => continue,
                }
            };
            return Ok((id, Answer::Results(ids, read)));
        }
    }

    /// Reads frames until the `Return` of question `q` (earlier returns
    /// are dropped).
    ///
    /// # Errors
    ///
    /// When the host closed the transport or sent an `Abort`.
    pub async fn answer(&mut self, q: u32) -> Result<Answer, Box<dyn std::error::Error>> {
        loop {
            let (id, answer) = self.next_answer().await?;
            if id == q {
                return Ok(answer);
            }
        }
    }

    /// Bootstraps (question 0), grafts (question 1) and returns each
    /// export's name and import id.
    ///
    /// # Errors
    ///
    /// When the graft fails.
    pub async fn graft(&mut self) -> Result<Vec<(String, u32)>, Box<dyn std::error::Error>> {
        use ww_capnp::membrane_capnp::membrane::{self, graft_results};
        self.bootstrap(0).await?;
        let call = Self::call_frame(
            1,
            Target::Answer(0, &[]),
            <membrane::Client as capnp::traits::HasTypeId>::TYPE_ID,
            0,
            |_| Ok(()),
        )?;
        self.write_frame(&call).await?;
        let (ids, read) = match self.answer(1).await? {
            Answer::Results(ids, read) => (ids, read),
            Answer::Exception(e) => return Err(e.into()),
        };
        let root = read.get_root::<message::Reader>()?;
        let message::Return(r) = root.which()? else {
            return Err("not a return".into());
        };
        let return_::Results(p) = r?.which()? else {
            return Err("not results".into());
        };
        let results: graft_results::Reader<'_> = p?.get_content().get_as()?;
        // The membrane writes one capability per export, in order, so the
        // i-th export's capability is the i-th entry of the cap table.
        let mut exports = Vec::new();
        for (i, export) in results.get_caps()?.iter().enumerate() {
            exports.push((export.get_name()?.to_string()?, ids[i]));
        }
        Ok(exports)
    }
}

/// One serialized message.
pub fn frame(m: &Builder<HeapAllocator>) -> Vec<u8> {
    capnp::serialize::write_message_to_words(m)
}
