;; A WASI 0.2 command that breaks the canonical ABI: it calls wasi:cli/exit.exit with a result
;; discriminant of 7 (only 0 and 1 exist). The component model says that traps; wasinet must
;; report a trap (exit status 134), not exit or fail some other way.
(component
  (import "wasi:cli/exit@0.2.0" (instance $exit
    (export "exit" (func (param "status" (result))))
  ))
  (core func $exit (canon lower (func $exit "exit")))
  (core module $M
    (import "exit" "exit" (func $exit (param i32)))
    (func (export "run") (result i32) (call $exit (i32.const 7)) (i32.const 0)))
  (core instance $m (instantiate $M (with "exit" (instance (export "exit" (func $exit))))))
  (func $run (result (result)) (canon lift (core func $m "run")))
  (instance $runinst (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $runinst))
)
