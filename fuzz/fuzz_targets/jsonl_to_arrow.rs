#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if !hf_relay_fuzz::known_jsonl_crasher(data) {
        hf_relay_fuzz::jsonl_to_arrow(data);
    }
});
