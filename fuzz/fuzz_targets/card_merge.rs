#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hf_relay_fuzz::card_merge(data));
