//! Getting the engine back: the page keeps a copy of the worker's intervention, and when the
//! engine dies (the page starts a fresh one, which reloads the model) or loses WebGPU (the worker
//! reloads the model on the CPU itself), the intervention goes back once the model is ready.
//! One state machine instead of flags: which `ModelReady` sends the copy back, which `Applied`
//! answers a put-back rather than a link being opened, and what the page's notice says.
//! Generic over the intervention (the page's `SavedIntervention`), and tested natively.

/// Where the page is in getting the engine back.
#[derive(Clone, Debug, PartialEq)]
pub enum Recovery<I> {
    /// The engine never died: `copy` is the page's copy of its intervention (refreshed after
    /// every change: a finished run, an edit, an applied link or file).
    Running { copy: Option<I> },
    /// A fresh engine is loading the model; `copy` goes back to it once the model is ready.
    Reloading { copy: Option<I> },
    /// An intervention is on its way back (the page sent it after a restart, or the worker puts
    /// it back itself after a lost WebGPU): the next `Applied` answers it.
    PuttingBack,
    /// The engine came back, with the intervention (`restored`) or without; `copy` as in
    /// `Running`.
    Recovered { copy: Option<I>, restored: bool },
    /// The fresh engine could not load the model; `copy` waits for the next restart.
    ReloadFailed { copy: Option<I> },
}

/// What an `Applied` answer was for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Applied {
    /// The intervention the page (or the worker) put back after a restart: `restored` says
    /// whether it is in use again.
    PutBack { restored: bool },
    /// A link or a file the user opened.
    Opened,
}

/// What the notice about a restart says: whether an intervention is (or was) going back, and
/// whether the engine is back.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoticeStatus {
    pub restoring: bool,
    pub done: bool,
}

impl<I> Default for Recovery<I> {
    fn default() -> Self {
        Recovery::Running { copy: None }
    }
}

impl<I> Recovery<I> {
    /// The page's copy of the worker's intervention, if it holds one.
    pub fn copy(&self) -> Option<&I> {
        match self {
            Recovery::Running { copy } | Recovery::Recovered { copy, .. } | Recovery::ReloadFailed { copy } => {
                copy.as_ref()
            }
            Recovery::Reloading { .. } | Recovery::PuttingBack => None,
        }
    }

    /// The worker exported its intervention: the page's copy is now `saved`.
    pub fn exported(&mut self, saved: I) {
        match self {
            Recovery::Running { copy } | Recovery::Recovered { copy, .. } | Recovery::ReloadFailed { copy } => {
                *copy = Some(saved)
            }
            // Nothing exports while an engine is loading or getting its intervention back.
            Recovery::Reloading { .. } | Recovery::PuttingBack => {}
        }
    }

    /// The engine died and a fresh one is starting: the page's copy goes back to it once its
    /// model is ready. Returns whether there is one to put back.
    pub fn engine_died(&mut self) -> bool {
        let copy = match std::mem::take(self) {
            Recovery::Running { copy } | Recovery::Recovered { copy, .. } | Recovery::ReloadFailed { copy } => copy,
            Recovery::Reloading { copy } => copy,
            // Dying while putting back: the page's copy was handed over, nothing is left to send.
            Recovery::PuttingBack => None,
        };
        let restoring = copy.is_some();
        *self = Recovery::Reloading { copy };
        restoring
    }

    /// WebGPU was lost under a live engine, which reloads the model on the CPU and, when
    /// `restoring`, puts the intervention learned so far back itself.
    pub fn webgpu_lost(&mut self, restoring: bool) {
        *self = if restoring { Recovery::PuttingBack } else { Recovery::Reloading { copy: None } };
    }

    /// A model is ready. An intervention belongs to the model it was made for, so the copy is
    /// dropped; after a restart it goes back instead: the returned copy is for the page to send
    /// as `Request::Apply`.
    pub fn model_ready(&mut self) -> Option<I> {
        let (next, send) = match std::mem::take(self) {
            Recovery::Running { .. } => (Recovery::Running { copy: None }, None),
            Recovery::Reloading { copy: Some(copy) } => (Recovery::PuttingBack, Some(copy)),
            Recovery::Reloading { copy: None } => (Recovery::Recovered { copy: None, restored: false }, None),
            // The worker loaded the model after a lost WebGPU and puts the intervention back next.
            Recovery::PuttingBack => (Recovery::PuttingBack, None),
            Recovery::Recovered { restored, .. } => (Recovery::Recovered { copy: None, restored }, None),
            Recovery::ReloadFailed { .. } => (Recovery::Recovered { copy: None, restored: false }, None),
        };
        *self = next;
        send
    }

    /// A load failed. A model loaded before stays in use (and so does the copy); a fresh
    /// engine's reload failing leaves nothing to put the intervention back into.
    pub fn load_failed(&mut self) {
        *self = match std::mem::take(self) {
            Recovery::Reloading { copy } => Recovery::ReloadFailed { copy },
            Recovery::PuttingBack => Recovery::ReloadFailed { copy: None },
            other => other,
        };
    }

    /// An `Applied` answer: `Some(saved)` when the worker applied it (its state, which becomes
    /// the page's copy after a put-back), `None` when it refused.
    pub fn applied(&mut self, result: Option<I>) -> Applied {
        if !matches!(self, Recovery::PuttingBack) {
            return Applied::Opened;
        }
        let restored = result.is_some();
        *self = Recovery::Recovered { copy: result, restored };
        Applied::PutBack { restored }
    }

    /// What the restart notice says; `None` when the engine never died or lost WebGPU.
    pub fn notice(&self) -> Option<NoticeStatus> {
        match self {
            Recovery::Running { .. } => None,
            Recovery::Reloading { copy } => Some(NoticeStatus { restoring: copy.is_some(), done: false }),
            Recovery::PuttingBack => Some(NoticeStatus { restoring: true, done: false }),
            Recovery::Recovered { restored, .. } => Some(NoticeStatus { restoring: *restored, done: true }),
            Recovery::ReloadFailed { .. } => Some(NoticeStatus { restoring: false, done: false }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type R = Recovery<&'static str>;

    fn running_with(copy: &'static str) -> R {
        let mut r = R::default();
        r.exported(copy);
        r
    }

    #[test]
    fn the_page_keeps_the_last_export_and_a_new_model_drops_it() {
        let mut r = running_with("a");
        r.exported("b");
        assert_eq!(r.copy(), Some(&"b"));
        assert_eq!(r.notice(), None, "no notice while the engine never died");
        assert_eq!(r.model_ready(), None, "nothing to send for a model the user loaded");
        assert_eq!(r.copy(), None, "an intervention belongs to the model it was made for");
        assert_eq!(r.applied(Some("link")), Applied::Opened, "an Applied in normal running opens a link");
    }

    #[test]
    fn a_death_sends_the_copy_back_once_the_model_is_ready() {
        let mut r = running_with("learned");
        assert!(r.engine_died(), "there is an intervention to put back");
        assert_eq!(r.notice(), Some(NoticeStatus { restoring: true, done: false }));
        assert_eq!(r.model_ready(), Some("learned"), "the page sends it as Apply");
        assert_eq!(r, R::PuttingBack);
        assert_eq!(r.notice(), Some(NoticeStatus { restoring: true, done: false }));
        assert_eq!(r.applied(Some("learned")), Applied::PutBack { restored: true });
        assert_eq!(r, R::Recovered { copy: Some("learned"), restored: true });
        assert_eq!(r.notice(), Some(NoticeStatus { restoring: true, done: true }));
        // Afterwards the page behaves as before the death.
        r.exported("edited");
        assert_eq!(r.copy(), Some(&"edited"));
        assert_eq!(r.applied(Some("link")), Applied::Opened);
    }

    #[test]
    fn a_death_without_an_intervention_is_done_when_the_model_is_ready() {
        let mut r = R::default();
        assert!(!r.engine_died());
        assert_eq!(r.notice(), Some(NoticeStatus { restoring: false, done: false }));
        assert_eq!(r.model_ready(), None);
        assert_eq!(r.notice(), Some(NoticeStatus { restoring: false, done: true }));
    }

    #[test]
    fn a_refused_put_back_ends_the_recovery_without_the_intervention() {
        let mut r = running_with("learned");
        r.engine_died();
        r.model_ready();
        assert_eq!(r.applied(None), Applied::PutBack { restored: false });
        assert_eq!(r, R::Recovered { copy: None, restored: false });
        assert_eq!(r.notice(), Some(NoticeStatus { restoring: false, done: true }));
    }

    #[test]
    fn a_lost_webgpu_waits_for_the_workers_own_put_back() {
        let mut r = running_with("so far");
        r.webgpu_lost(true);
        assert_eq!(r.model_ready(), None, "the worker puts the intervention back itself");
        assert_eq!(r.notice(), Some(NoticeStatus { restoring: true, done: false }));
        assert_eq!(r.applied(Some("so far")), Applied::PutBack { restored: true });
        assert_eq!(r.copy(), Some(&"so far"));

        let mut r = R::default();
        r.webgpu_lost(false);
        assert_eq!(r.model_ready(), None);
        assert_eq!(r.notice(), Some(NoticeStatus { restoring: false, done: true }));
    }

    #[test]
    fn a_failed_reload_keeps_the_copy_for_the_next_restart() {
        let mut r = running_with("learned");
        r.engine_died();
        r.load_failed();
        assert_eq!(r, R::ReloadFailed { copy: Some("learned") });
        assert_eq!(r.notice(), Some(NoticeStatus { restoring: false, done: false }));
        assert!(r.engine_died(), "the next engine gets it back");
        assert_eq!(r.model_ready(), Some("learned"));
    }

    #[test]
    fn a_failed_load_of_another_model_changes_nothing() {
        let mut r = running_with("learned");
        r.load_failed();
        assert_eq!(r, running_with("learned"));
    }

    #[test]
    fn a_death_while_putting_back_restarts_with_nothing_to_send() {
        let mut r = running_with("learned");
        r.engine_died();
        r.model_ready();
        assert!(!r.engine_died(), "the copy was handed over");
        assert_eq!(r.model_ready(), None);
        assert_eq!(r.notice(), Some(NoticeStatus { restoring: false, done: true }));
    }
}
