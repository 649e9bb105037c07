//! Where the page's model comes from: the one in use, and the one loading. A restarted engine
//! loads the one in use again; a load that fails leaves it in use. Generic over the source (the
//! page's URL or picked file), and tested natively.

#[derive(Clone, Debug, PartialEq)]
pub struct ModelSources<S> {
    in_use: Option<S>,
    loading: Option<S>,
}

impl<S> Default for ModelSources<S> {
    fn default() -> Self {
        ModelSources { in_use: None, loading: None }
    }
}

impl<S> ModelSources<S> {
    /// The source of the model in use.
    pub fn in_use(&self) -> Option<&S> {
        self.in_use.as_ref()
    }

    /// A load of `source` started.
    pub fn loading(&mut self, source: S) {
        self.loading = Some(source);
    }

    /// The model loading is ready: it is the one in use now. (A model the worker reloaded by
    /// itself, after a lost WebGPU, keeps the source it had.)
    pub fn ready(&mut self) {
        if let Some(source) = self.loading.take() {
            self.in_use = Some(source);
        }
    }

    /// The load failed: the model in use stays.
    pub fn failed(&mut self) {
        self.loading = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ready_load_replaces_the_source_and_a_failed_one_keeps_it() {
        let mut s = ModelSources::default();
        assert_eq!(s.in_use(), None);
        s.loading("default");
        assert_eq!(s.in_use(), None, "not in use before it is ready");
        s.ready();
        assert_eq!(s.in_use(), Some(&"default"));
        s.loading("broken.gguf");
        s.failed();
        assert_eq!(s.in_use(), Some(&"default"));
        s.ready();
        assert_eq!(s.in_use(), Some(&"default"), "a reload by the worker keeps the source");
        s.loading("other.gguf");
        s.ready();
        assert_eq!(s.in_use(), Some(&"other.gguf"));
    }
}
