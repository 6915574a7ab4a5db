//! End-to-end tests of cnnvar live in `it/`.
