//! The glue between the executor's park hook and the reactor's turn.
//!
//! The executor stands alone and only knows the [`Park`] and [`Unpark`]
//! traits; the reactor knows nothing of tasks. Here, parking the scheduler
//! means turning the reactor once, and unparking it means interrupting that
//! turn from another thread.

use ember_executor::{Park, Unpark};
use std::time::Duration;

/// Parks the scheduler by turning the reactor.
pub(super) struct ReactorPark<'a> {
    driver: &'a mut ember_reactor::Driver,
}

impl<'a> ReactorPark<'a> {
    pub(super) fn new(driver: &'a mut ember_reactor::Driver) -> Self {
        ReactorPark { driver }
    }
}

impl Park for ReactorPark<'_> {
    fn park(&mut self, timeout: Option<Duration>) {
        if let Err(e) = self.driver.turn(timeout) {
            // The poller itself failed (EINTR is already retried inside):
            // its descriptor is gone or the kernel is out of memory. No task
            // can make progress without it, and returning would spin.
            panic!("the ember reactor failed to poll for events: {e}");
        }
    }
}

/// Unparks the scheduler by interrupting a blocked reactor turn.
pub(super) struct ReactorUnpark {
    reactor: ember_reactor::Handle,
}

impl ReactorUnpark {
    pub(super) fn new(reactor: ember_reactor::Handle) -> Self {
        ReactorUnpark { reactor }
    }
}

impl Unpark for ReactorUnpark {
    fn unpark(&self) {
        self.reactor.unpark();
    }
}
