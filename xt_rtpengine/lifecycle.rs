// SPDX-License-Identifier: GPL-2.0

//! Module load and unload: the registry of tables, /proc/rtpengine, the x_tables target.

use crate::packet::xt;
use crate::tables::Registry;
use kernel::prelude::*;

/// The loaded module. Teardown order: the target first (no more packets), then /proc
/// (no more control callbacks), then the tables.
pub(crate) struct XtRtpengine {
    target: Option<xt::Registration>,
    registry: Pin<KBox<Registry>>,
}

impl kernel::Module for XtRtpengine {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // Before anything exists that would need undoing.
        crate::proc::ops::check_layout()?;
        // SAFETY: plain call; the queue frees deleted targets after a grace period.
        let ret = unsafe { crate::ffi::rtpe_wq_create() };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        let registry = match KBox::pin_init(Registry::new(), GFP_KERNEL) {
            Ok(r) => r,
            Err(e) => {
                // SAFETY: created above, unused.
                unsafe { crate::ffi::rtpe_wq_destroy() };
                return Err(e);
            }
        };
        registry.as_ref().install();
        let target = match registry
            .create_proc()
            .and_then(|()| xt::Registration::new())
        {
            Ok(t) => t,
            Err(e) => {
                registry.shutdown();
                registry.uninstall();
                // SAFETY: created above; nothing was queued that is still pending after
                // `shutdown`, and the call waits anyway.
                unsafe { crate::ffi::rtpe_wq_destroy() };
                return Err(e);
            }
        };
        pr_info!("rtpengine-rs xt_RTPENGINE loaded (rtpengine 10.5 ABI)\n");
        Ok(XtRtpengine {
            target: Some(target),
            registry,
        })
    }
}

impl Drop for XtRtpengine {
    fn drop(&mut self) {
        drop(self.target.take());
        self.registry.shutdown();
        self.registry.uninstall();
        // Targets deleted earlier may still wait for their grace period to be freed by
        // our work function: let them all run before the module's code goes away.
        // SAFETY: the queue was created in `init`; nothing queues work any more.
        unsafe { crate::ffi::rtpe_wq_destroy() };
        pr_info!("xt_RTPENGINE unloaded\n");
    }
}
