//! Git LFS pointers (spec v1) and the `.git/lfs/objects` store, laid out as git-lfs does.
