;; Reads stdin once without blocking, then once blocking, and echoes what the blocking read got:
;;   - input-stream.read(100) must return ok with no bytes (the test sends its data later);
;;   - input-stream.blocking-read(100) waits for the data and returns it;
;;   - the bytes are written to stdout, and run returns ok (exit 0), with stdin still open.
;; Returns err (exit 1) if a read fails or the first one returns data.
(component
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
    (export "input-stream" (type $is (sub resource)))
    (export "output-stream" (type $os (sub resource)))
    (type $bytes (list u8))
    (export "[method]input-stream.read"
      (func (param "self" (borrow $is)) (param "len" u64) (result (result $bytes (error $se2)))))
    (export "[method]input-stream.blocking-read"
      (func (param "self" (borrow $is)) (param "len" u64) (result (result $bytes (error $se2)))))
    (export "[method]output-stream.blocking-write-and-flush"
      (func (param "self" (borrow $os)) (param "contents" $bytes) (result (result (error $se2)))))
  ))
  (alias export $streams "input-stream" (type $input-stream))
  (alias export $streams "output-stream" (type $output-stream))
  (import "wasi:cli/stdin@0.2.12" (instance $stdin
    (alias outer 1 $input-stream (type $is0))
    (export "input-stream" (type $is (eq $is0)))
    (type $own (own $is))
    (export "get-stdin" (func (result $own)))
  ))
  (import "wasi:cli/stdout@0.2.12" (instance $stdout
    (alias outer 1 $output-stream (type $os0))
    (export "output-stream" (type $os (eq $os0)))
    (type $own (own $os))
    (export "get-stdout" (func (result $own)))
  ))

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
    (import "streams" "read" (func $read (param i32 i64 i32)))
    (import "streams" "blocking-read" (func $bread (param i32 i64 i32)))
    (import "streams" "blocking-write-and-flush" (func $bwf (param i32 i32 i32 i32)))
    (import "stdin" "get-stdin" (func $getstdin (result i32)))
    (import "stdout" "get-stdout" (func $getstdout (result i32)))
    (func (export "run") (result i32)
      (local $in i32)
      (local.set $in (call $getstdin))
      (call $read (local.get $in) (i64.const 100) (i32.const 200))
      (if (i32.load8_u (i32.const 200)) (then (return (i32.const 1))))
      (if (i32.load (i32.const 208)) (then (return (i32.const 1))))
      (call $bread (local.get $in) (i64.const 100) (i32.const 300))
      (if (i32.load8_u (i32.const 300)) (then (return (i32.const 1))))
      (call $bwf (call $getstdout) (i32.load (i32.const 304)) (i32.load (i32.const 308)) (i32.const 400))
      (i32.load8_u (i32.const 400))))

  (core func $read (canon lower (func $streams "[method]input-stream.read") (memory $memory) (realloc $realloc)))
  (core func $bread (canon lower (func $streams "[method]input-stream.blocking-read") (memory $memory) (realloc $realloc)))
  (core func $bwf (canon lower (func $streams "[method]output-stream.blocking-write-and-flush") (memory $memory)))
  (core func $getstdin (canon lower (func $stdin "get-stdin")))
  (core func $getstdout (canon lower (func $stdout "get-stdout")))
  (core instance $main (instantiate $Main
    (with "env" (instance (export "memory" (memory $memory))))
    (with "streams" (instance
      (export "read" (func $read))
      (export "blocking-read" (func $bread))
      (export "blocking-write-and-flush" (func $bwf))))
    (with "stdin" (instance (export "get-stdin" (func $getstdin))))
    (with "stdout" (instance (export "get-stdout" (func $getstdout))))))

  (func $run (result (result)) (canon lift (core func $main "run")))
  (instance $runinst (export "run" (func $run)))
  (export "wasi:cli/run@0.2.12" (instance $runinst))
)
