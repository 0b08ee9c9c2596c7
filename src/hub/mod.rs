//! The Hub over HTTP: REST (repo info, create, whoami) and the Git LFS batch API. Never prints.
