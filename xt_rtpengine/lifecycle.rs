// SPDX-License-Identifier: GPL-2.0

//! Module load and unload: the registry of tables, /proc/rtpengine, the x_tables target.

use crate::tables::Registry;
use crate::xt;
use kernel::prelude::*;

/// The loaded module. Teardown order: the target first (no more packets), then /proc
/// (no more control callbacks), then the tables.
pub(crate) struct XtRtpengine {
    target: Option<xt::Registration>,
    registry: Pin<KBox<Registry>>,
}

impl kernel::Module for XtRtpengine {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let registry = KBox::pin_init(Registry::new(), GFP_KERNEL)?;
        registry.as_ref().install();
        if let Err(e) = registry.create_proc() {
            registry.shutdown();
            registry.uninstall();
            return Err(e);
        }
        let target = match xt::Registration::new() {
            Ok(t) => t,
            Err(e) => {
                registry.shutdown();
                registry.uninstall();
                return Err(e);
            }
        };
        pr_info!("rtpengine-rs xt_RTPENGINE loaded (rtpengine 10.5 ABI)\n");
        Ok(XtRtpengine { target: Some(target), registry })
    }
}

impl Drop for XtRtpengine {
    fn drop(&mut self) {
        drop(self.target.take());
        self.registry.shutdown();
        self.registry.uninstall();
        // Targets deleted earlier may still wait for their grace period to be freed by
        // our callback: let them all run before the module's code goes away.
        // SAFETY: plain call, process context.
        unsafe { kernel::bindings::rcu_barrier() };
        pr_info!("xt_RTPENGINE unloaded\n");
    }
}
