;; A WASI 0.2 command written directly in the component model's text format (built with
;; `jco parse`), to check exact host behaviour without a toolchain in between:
;;   - monotonic-clock subscribe-duration(50 ms) + pollable.block waits at least 50 ms, and the
;;     pollable is ready afterwards;
;;   - poll([10 s, 20 ms]) returns just [1];
;;   - random get-random-bytes(16) gives 16 bytes, not all zero; two get-random-u64 differ;
;;   - wall-clock now is after 2023 with nanoseconds < 10^9;
;;   - writes "ok\n" with output-stream.blocking-write-and-flush on stdout;
;;   - exits with exit-with-code(42).
;; Its imports mix 0.2.0, 0.2.3 and 0.2.12 (any 0.2.x is one implementation to jco and to us).
;; Any failed check exits with its own code (10...19) instead.
(component
  (import "wasi:io/poll@0.2.0" (instance $poll
    (export "pollable" (type $p (sub resource)))
    (export "[method]pollable.ready" (func (param "self" (borrow $p)) (result bool)))
    (export "[method]pollable.block" (func (param "self" (borrow $p))))
    (type $plist (list (borrow $p)))
    (export "poll" (func (param "in" $plist) (result (list u32))))
  ))
  (alias export $poll "pollable" (type $pollable))
  (import "wasi:clocks/monotonic-clock@0.2.3" (instance $mono
    (alias outer 1 $pollable (type $p0))
    (export "pollable" (type $p (eq $p0)))
    (type $own (own $p))
    (export "now" (func (result u64)))
    (export "subscribe-duration" (func (param "when" u64) (result $own)))
  ))
  (import "wasi:clocks/wall-clock@0.2.12" (instance $wall
    (type $dt (record (field "seconds" u64) (field "nanoseconds" u32)))
    (export "datetime" (type $dt2 (eq $dt)))
    (export "now" (func (result $dt2)))
  ))
  (import "wasi:random/random@0.2.12" (instance $rand
    (export "get-random-bytes" (func (param "len" u64) (result (list u8))))
    (export "get-random-u64" (func (result u64)))
  ))
  (import "wasi:io/error@0.2.12" (instance $ioerr
    (export "error" (type (sub resource)))
  ))
  (alias export $ioerr "error" (type $error))
  (import "wasi:io/streams@0.2.12" (instance $streams
    (alias outer 1 $error (type $e0))
    (export "error" (type $e (eq $e0)))
    (type $eown (own $e))
    (type $se (variant (case "last-operation-failed" $eown) (case "closed")))
    (export "stream-error" (type $se2 (eq $se)))
    (export "output-stream" (type $os (sub resource)))
    (export "[method]output-stream.blocking-write-and-flush"
      (func (param "self" (borrow $os)) (param "contents" (list u8)) (result (result (error $se2)))))
  ))
  (alias export $streams "output-stream" (type $output-stream))
  (import "wasi:cli/stdout@0.2.12" (instance $stdout
    (alias outer 1 $output-stream (type $os0))
    (export "output-stream" (type $os (eq $os0)))
    (type $own (own $os))
    (export "get-stdout" (func (result $own)))
  ))
  (import "wasi:cli/exit@0.2.12" (instance $exit
    (export "exit-with-code" (func (param "status-code" u8)))
  ))

  ;; Memory and a bump allocator, instantiated first so that the lowered imports can use them.
  (core module $Mem
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 8192))
    (func (export "realloc") (param i32 i32) (param $align i32) (param $size i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and
        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
      (global.set $heap (i32.add (local.get $p) (local.get $size)))
      (local.get $p)))
  (core instance $mem (instantiate $Mem))
  (alias core export $mem "memory" (core memory $memory))
  (alias core export $mem "realloc" (core func $realloc))

  (core module $Main
    (import "env" "memory" (memory 1))
    (import "poll" "[method]pollable.ready" (func $ready (param i32) (result i32)))
    (import "poll" "[method]pollable.block" (func $block (param i32)))
    (import "poll" "poll" (func $poll (param i32 i32 i32)))
    (import "poll" "[resource-drop]pollable" (func $drop (param i32)))
    (import "mono" "now" (func $now (result i64)))
    (import "mono" "subscribe-duration" (func $sub (param i64) (result i32)))
    (import "wall" "now" (func $wall (param i32)))
    (import "rand" "get-random-bytes" (func $rbytes (param i64 i32)))
    (import "rand" "get-random-u64" (func $ru64 (result i64)))
    (import "streams" "[method]output-stream.blocking-write-and-flush" (func $bwf (param i32 i32 i32 i32)))
    (import "stdout" "get-stdout" (func $getstdout (result i32)))
    (import "exit" "exit-with-code" (func $exit (param i32)))
    (data (i32.const 16) "ok\n")
    (func $fail (param $code i32) (call $exit (local.get $code)) unreachable)
    (func (export "run") (result i32)
      (local $t0 i64) (local $p i32) (local $long i32) (local $bytes i32) (local $out i32)
      ;; block on a 50 ms pollable
      (local.set $t0 (call $now))
      (local.set $p (call $sub (i64.const 50000000)))
      (call $block (local.get $p))
      (if (i32.eqz (call $ready (local.get $p))) (then (call $fail (i32.const 10))))
      (call $drop (local.get $p))
      (if (i64.lt_u (i64.sub (call $now) (local.get $t0)) (i64.const 50000000)) (then (call $fail (i32.const 11))))
      ;; poll a 10 s and a 20 ms pollable: only the second is ready
      (local.set $long (call $sub (i64.const 10000000000)))
      (local.set $p (call $sub (i64.const 20000000)))
      (i32.store (i32.const 100) (local.get $long))
      (i32.store (i32.const 104) (local.get $p))
      (call $poll (i32.const 100) (i32.const 2) (i32.const 200))
      (if (i32.ne (i32.load (i32.const 204)) (i32.const 1)) (then (call $fail (i32.const 12))))
      (if (i32.ne (i32.load (i32.load (i32.const 200))) (i32.const 1)) (then (call $fail (i32.const 13))))
      (call $drop (local.get $long))
      (call $drop (local.get $p))
      ;; 16 random bytes, not all zero; two random u64s that differ
      (call $rbytes (i64.const 16) (i32.const 300))
      (if (i32.ne (i32.load (i32.const 304)) (i32.const 16)) (then (call $fail (i32.const 14))))
      (local.set $bytes (i32.load (i32.const 300)))
      (if (i64.eqz (i64.or (i64.load (local.get $bytes)) (i64.load offset=8 (local.get $bytes))))
        (then (call $fail (i32.const 15))))
      (if (i64.eq (call $ru64) (call $ru64)) (then (call $fail (i32.const 16))))
      ;; the wall clock: after 2023-11-14, nanoseconds in range
      (call $wall (i32.const 400))
      (if (i64.lt_u (i64.load (i32.const 400)) (i64.const 1700000000)) (then (call $fail (i32.const 17))))
      (if (i32.ge_u (i32.load (i32.const 408)) (i32.const 1000000000)) (then (call $fail (i32.const 18))))
      ;; "ok\n" on stdout
      (local.set $out (call $getstdout))
      (call $bwf (local.get $out) (i32.const 16) (i32.const 3) (i32.const 500))
      (if (i32.load8_u (i32.const 500)) (then (call $fail (i32.const 19))))
      (call $exit (i32.const 42))
      (i32.const 0)))

  (core func $ready (canon lower (func $poll "[method]pollable.ready")))
  (core func $block (canon lower (func $poll "[method]pollable.block")))
  (core func $pollf (canon lower (func $poll "poll") (memory $memory) (realloc $realloc)))
  (core func $drop (canon resource.drop $pollable))
  (core func $now (canon lower (func $mono "now")))
  (core func $sub (canon lower (func $mono "subscribe-duration")))
  (core func $wallnow (canon lower (func $wall "now") (memory $memory)))
  (core func $rbytes (canon lower (func $rand "get-random-bytes") (memory $memory) (realloc $realloc)))
  (core func $ru64 (canon lower (func $rand "get-random-u64")))
  (core func $bwf (canon lower (func $streams "[method]output-stream.blocking-write-and-flush") (memory $memory)))
  (core func $getstdout (canon lower (func $stdout "get-stdout")))
  (core func $exit (canon lower (func $exit "exit-with-code")))

  (core instance $main (instantiate $Main
    (with "env" (instance (export "memory" (memory $memory))))
    (with "poll" (instance
      (export "[method]pollable.ready" (func $ready))
      (export "[method]pollable.block" (func $block))
      (export "poll" (func $pollf))
      (export "[resource-drop]pollable" (func $drop))))
    (with "mono" (instance (export "now" (func $now)) (export "subscribe-duration" (func $sub))))
    (with "wall" (instance (export "now" (func $wallnow))))
    (with "rand" (instance (export "get-random-bytes" (func $rbytes)) (export "get-random-u64" (func $ru64))))
    (with "streams" (instance (export "[method]output-stream.blocking-write-and-flush" (func $bwf))))
    (with "stdout" (instance (export "get-stdout" (func $getstdout))))
    (with "exit" (instance (export "exit-with-code" (func $exit))))))

  (func $run (result (result)) (canon lift (core func $main "run")))
  (instance $runinst (export "run" (func $run)))
  (export "wasi:cli/run@0.2.12" (instance $runinst))
)
