;; Without --dir the first listener is fd 3: run as `wasinet run --listen 127.0.0.1:0 sock-nodir.wasm`.
;; Checks fd 3 without accepting anything and exits with a code that encodes the results, so a
;; test can check it from the exit status alone:
;;   exit 0   fd_prestat_get(3) = EBADF (8), fd_fdstat_get(3) ok with filetype socket_stream (6),
;;            fd_fdstat_set_flags(3, NONBLOCK) ok, then sock_accept(3, 0) = EAGAIN (6),
;;            sock_accept(4, 0) = EBADF (8)
;;   exit 10 + k   check k failed (k = 1..6, in the order above)
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "sock_accept" (func $sock_accept (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fd_fdstat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func $fd_fdstat_set_flags (param i32 i32) (result i32)))
  (memory (export "memory") 1)

  (func $expect (param $got i32) (param $want i32) (param $code i32)
    (if (i32.ne (local.get $got) (local.get $want))
      (then (call $proc_exit (local.get $code)))))

  (func (export "_start")
    (call $expect (call $fd_prestat_get (i32.const 3) (i32.const 64)) (i32.const 8) (i32.const 11))
    (i32.store8 (i32.const 64) (i32.const 255))
    (call $expect (call $fd_fdstat_get (i32.const 3) (i32.const 64)) (i32.const 0) (i32.const 12))
    (call $expect (i32.load8_u (i32.const 64)) (i32.const 6) (i32.const 13))
    (call $expect (call $fd_fdstat_set_flags (i32.const 3) (i32.const 4)) (i32.const 0) (i32.const 14))
    (call $expect (call $sock_accept (i32.const 3) (i32.const 0) (i32.const 128)) (i32.const 6) (i32.const 15))
    (call $expect (call $sock_accept (i32.const 4) (i32.const 0) (i32.const 128)) (i32.const 8) (i32.const 16))
    (call $proc_exit (i32.const 0)))
)
