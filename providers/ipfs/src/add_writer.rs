//! `AddWriter`: a file added in pieces; nothing reaches the store unless
//! `finish` is called.

use std::cell::RefCell;
use std::rc::Rc;

use capnp::Error;
use cid::Cid;
use ww_capnp::ipfs_capnp::add_writer;

use crate::blockstore::Blockstore;
use crate::error::IpfsError;
use crate::importer::{AddOptions, FileImport};
use crate::pins::Pins;

/// Serves `AddWriter` over one [`FileImport`].
pub struct AddWriterImpl {
    import: RefCell<Option<FileImport>>,
    pins: Pins,
    announce: Rc<dyn Fn(Cid)>,
}

impl AddWriterImpl {
    /// A file to be added to `store` and pinned in `pins`.
    ///
    /// # Errors
    ///
    /// When the staging area cannot be created.
    pub fn new(
        store: &Blockstore,
        options: AddOptions,
        pins: Pins,
        announce: Rc<dyn Fn(Cid)>,
    ) -> Result<Self, IpfsError> {
        Ok(AddWriterImpl {
            import: RefCell::new(Some(FileImport::new(store, options)?)),
            pins,
            announce,
        })
    }
}

fn finished() -> Error {
    Error::failed("this add is finished (or failed); start another with UnixFs.addStream".into())
}

impl add_writer::Server for AddWriterImpl {
    async fn write(self: Rc<Self>, params: add_writer::WriteParams) -> Result<(), Error> {
        let data = params.get()?.get_data()?;
        let mut import = self.import.borrow_mut();
        let file = import.as_mut().ok_or_else(finished)?;
        if let Err(e) = file.write(data) {
            // The staged blocks go with it.
            *import = None;
            return Err(e.into());
        }
        Ok(())
    }

    async fn finish(
        self: Rc<Self>,
        _: add_writer::FinishParams,
        mut results: add_writer::FinishResults,
    ) -> Result<(), Error> {
        let file = self.import.borrow_mut().take().ok_or_else(finished)?;
        let (cid, _, batch) = file.finish()?;
        batch.commit_then(|| self.pins.add(&cid))?;
        (self.announce)(cid);
        results.get().set_cid(cid.to_string().as_str());
        Ok(())
    }
}
