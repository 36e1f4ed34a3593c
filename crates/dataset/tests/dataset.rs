//! The dataset's integration tests, one binary: the sample capture, then the reference lab
//! capture of the shared corpus.

mod corpus;
mod reference;
mod sample;
mod screening;
mod util;
