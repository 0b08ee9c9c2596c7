//! Authentication: finding the token, keeping it secret, redacting it.
