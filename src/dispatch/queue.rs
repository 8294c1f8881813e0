//! The dispatch layer's indexed sample queue: the shared [`sample_ring::SampleRing`].
//!
//! The dispatch layer keeps one per implementation when a session runs both (shadow,
//! standby): the same stream index in both queues is the same moment of the same signal,
//! which is what lets shadow compare sample for sample and standby switch sides without
//! losing or repeating a sample. The ring is the same type the boards buffer in, so there
//! is one implementation of eviction, drop counting and the read transpose.

pub use sample_ring::SampleRing as SampleQueue;
