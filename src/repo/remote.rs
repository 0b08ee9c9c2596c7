//! Git over HTTPS with the Hub: fetch, push, clone (git2), with the token only in memory.
