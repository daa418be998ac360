//! Periodic work: call timeouts, delete-delay expiry, the per-second
//! statistics sample.

use std::sync::Arc;
use std::time::Duration;

use tracing::info;

use super::handler::Handler;
use crate::call::Now;

pub async fn sweep_loop(handler: Arc<Handler>, period: Duration) {
    let mut tick = tokio::time::interval(period);
    loop {
        tick.tick().await;
        let now = Now::system();
        handler.sample_rates(now.mono);
        let mut closing = Vec::new();
        {
            let mut reg = handler.registry();
            let expired = reg.sweep(&now, handler.relay().as_ref());
            for (call_id, why, effects) in expired {
                info!(call_id = %call_id, reason = ?why, "call expired");
                if !reg.calls.contains_key(&call_id) {
                    handler.call_ended(&call_id, now.unix);
                }
                closing.push(handler.relay().apply(&effects));
                handler.persist(&reg, &call_id, &now);
            }
        }
        for c in closing {
            c.wait().await;
        }
    }
}
