//! Everything the engine worker holds, in one struct: `EngineWorker` owns it and lends it to each
//! request's future as an `Rc`. The worker has one thread and its futures interleave only at
//! awaits, so the cells are never borrowed across one (every accessor hands out a clone).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use actscale::backend::BackendKind;
use actscale::model::Model;
use actscale::protocol::{ModelInfo, TrainRequest};
use actscale::steer::intervention::Intervention;
use actscale::steer::prompts::Example;
use burn::tensor::Device;

use super::patch_helper::HelperSlot;

/// The model in use, with the file it came from (kept so that a backend switch can reload it).
pub struct Loaded {
    pub model: Rc<Model>,
    pub info: ModelInfo,
    pub bytes: Rc<Vec<u8>>,
}

/// An intervention with what it was made from.
pub struct Learned {
    pub iv: Intervention,
    pub request: TrainRequest,
    /// The training prompts (the first one is what the heatmap shows).
    pub examples: Vec<Example>,
    /// `iv`'s parameters on the host, so that the intervention outlives a lost WebGPU device.
    pub params: Vec<f32>,
}

#[derive(Default)]
pub struct Engine {
    loaded: RefCell<Option<Rc<Loaded>>>,
    /// The intervention in use (learned here, edited by hand, or restored from a link or file).
    learned: RefCell<Option<Rc<Learned>>>,
    /// While only the top k units are in use (`interpret::keep_top`): all of the parameters.
    whole: RefCell<Option<Rc<Vec<f32>>>>,
    /// A DynScalar's probes (row r = site · n_layers + layer), most important first, as its
    /// last interpretation ranked them: what keep-top-k keeps. They belong to the whole
    /// intervention, so a top-k cut of it and going back to all of it keep them.
    probe_ranks: RefCell<Option<Rc<Vec<usize>>>>,
    /// A run or sweep is in progress (`training::Running`).
    pub training: Cell<bool>,
    /// Stop was asked for; the run ends before its next step.
    pub stop: Cell<bool>,
    /// burn initialises WebGPU once per worker (a second try fails: "already initialized"), so
    /// requests that ask while it is being set up (the self-check, a small model's load) wait
    /// for the same outcome.
    pub webgpu: async_once_cell::OnceCell<Result<Device, String>>,
    /// Why WebGPU is gone for good in this worker (its device was lost), once it is.
    pub webgpu_lost: RefCell<Option<String>>,
    /// The adapter's software renderer, probed once (Some(None): a hardware adapter).
    pub software: RefCell<Option<Option<String>>>,
    /// What the user picked in the page or its address (None: the engine's choice).
    pub preferred: Cell<Option<BackendKind>>,
    /// The second worker that patches a share of the layers (`patch_helper`), with the model
    /// in use.
    pub helper: RefCell<HelperSlot>,
}

impl Engine {
    pub fn loaded(&self) -> Option<Rc<Loaded>> {
        self.loaded.borrow().clone()
    }

    pub fn model(&self) -> Option<Rc<Model>> {
        self.loaded.borrow().as_ref().map(|l| l.model.clone())
    }

    pub fn model_info(&self) -> Option<ModelInfo> {
        self.loaded.borrow().as_ref().map(|l| l.info.clone())
    }

    /// A new model is in use: the intervention made for the one before goes (it would not fit).
    pub fn set_loaded(&self, loaded: Loaded) {
        *self.loaded.borrow_mut() = Some(Rc::new(loaded));
        *self.learned.borrow_mut() = None;
        // Its helper has the model before (and its memory): the next patching starts another.
        *self.helper.borrow_mut() = HelperSlot::NotTried;
    }

    pub fn learned(&self) -> Option<Rc<Learned>> {
        self.learned.borrow().clone()
    }

    /// A new intervention is in use (trained, edited, applied): no top-k cut of an older one.
    pub fn set_learned(&self, learned: Learned) {
        *self.learned.borrow_mut() = Some(Rc::new(learned));
        *self.whole.borrow_mut() = None;
        *self.probe_ranks.borrow_mut() = None;
    }

    pub fn probe_ranks(&self) -> Option<Rc<Vec<usize>>> {
        self.probe_ranks.borrow().clone()
    }

    /// The ranking of the whole intervention's probes in use (`interpret`).
    pub fn set_probe_ranks(&self, ranks: Vec<usize>) {
        *self.probe_ranks.borrow_mut() = Some(Rc::new(ranks));
    }

    /// The whole intervention is in use again after a top-k cut of it.
    pub fn set_whole_again(&self, whole: Learned) {
        let ranks = self.probe_ranks();
        self.set_learned(whole);
        *self.probe_ranks.borrow_mut() = ranks;
    }

    /// The whole intervention's parameters when only its top k are in use.
    pub fn whole(&self) -> Option<Rc<Vec<f32>>> {
        self.whole.borrow().clone()
    }

    /// `kept` (a top-k cut of `whole`) is in use; `whole` is what Interpret and "all" go back to.
    pub fn set_kept(&self, kept: Learned, whole: Rc<Vec<f32>>) {
        self.set_whole_again(kept);
        *self.whole.borrow_mut() = Some(whole);
    }
}
