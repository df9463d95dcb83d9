;; A WASI 0.2 command whose wasi:cli/run returns err: wasinet exits with status 1.
(component
  (core module $M (func (export "run") (result i32) (i32.const 1)))
  (core instance $m (instantiate $M))
  (func $run (result (result)) (canon lift (core func $m "run")))
  (instance $runinst (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $runinst))
)
