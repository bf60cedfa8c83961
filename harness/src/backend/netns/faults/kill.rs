//! SIGKILL of one container mid-trial: an event the trial driver carries out.

use std::time::Duration;

use super::NetnsFault;
use crate::backend::drive::Event;

/// `kind: kill`: container `container` of pod `pod` is killed at `at_s`.
pub(super) struct Kill {
    pub pod: String,
    pub container: String,
    pub at_s: f64,
}

impl NetnsFault for Kill {
    fn events(&self) -> Vec<(Duration, Event)> {
        vec![(
            Duration::from_secs_f64(self.at_s),
            Event::Kill { pod: self.pod.clone(), container: self.container.clone() },
        )]
    }
}
