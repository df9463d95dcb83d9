;; A WASI 0.2 command that imports an interface wasinet does not implement (and a WASI 0.3 one):
;; wasinet must refuse it with an error naming them, before running anything.
(component
  (import "example:nope/thing@1.2.3" (instance $thing
    (export "get" (func (result u32)))
  ))
  (import "wasi:random/random@0.3.0" (instance $rand
    (export "get-random-u64" (func (result u64)))
  ))
  (core func $get (canon lower (func $thing "get")))
  (core func $ru64 (canon lower (func $rand "get-random-u64")))
  (core module $M
    (import "thing" "get" (func $get (result i32)))
    (import "rand" "get-random-u64" (func $ru64 (result i64)))
    (func (export "run") (result i32) (drop (call $ru64)) (call $get)))
  (core instance $m (instantiate $M
    (with "thing" (instance (export "get" (func $get))))
    (with "rand" (instance (export "get-random-u64" (func $ru64))))))
  (func $run (result (result)) (canon lift (core func $m "run")))
  (instance $runinst (export "run" (func $run)))
  (export "wasi:cli/run@0.2.12" (instance $runinst))
)
