#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| server::fuzzing::callback_query(data));
