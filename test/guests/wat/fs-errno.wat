;; Exact errnos of a few p1 filesystem calls, checked from inside a guest run by the CLI as
;;   wasinet run --dir HOST::/sandbox fs-errno.wasm
;; where HOST holds a file "f" (contents "abc") and a symlink "out" -> "../x". Exits 0 when every
;; check passes, 10 + k when check k fails:
;;   1  fd_prestat_get(0) = EBADF           2  fd_prestat_get(3) = 0, name length 8
;;   3  path_open(3, "../x") = ENOTCAPABLE  4  path_open(3, "/f") = ENOTCAPABLE
;;   5  path_open(3, "out", follow) = ENOTCAPABLE
;;   6  path_open(3, "out", nofollow) = ELOOP
;;   7  path_open(3, "f") = 0 (fd 4)        8  fd_seek(4, 1, SET) = 0, new offset 1
;;   9  fd_read(4) = 0, 2 bytes "bc"        10 fd_tell(4) = 0, offset 3
;;   11 fd_write(4, iovec outside memory) = EFAULT
;;   12 fd_renumber(4, 1) = 0, then fd_read(1) reads 0 bytes at EOF
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_tell" (func $fd_tell (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_renumber" (func $fd_renumber (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; paths at 16.., scratch at 256..
  (data (i32.const 16) "../x")   ;; 16, len 4
  (data (i32.const 24) "/f")     ;; 24, len 2
  (data (i32.const 32) "out")    ;; 32, len 3
  (data (i32.const 40) "f")      ;; 40, len 1
  ;; iovec at 64: buf 128, len 16; bad iovec at 80: buf 0xfffff000, len 4
  (data (i32.const 64) "\80\00\00\00\10\00\00\00")
  (data (i32.const 80) "\00\f0\ff\ff\04\00\00\00")

  (func $expect (param $got i32) (param $want i32) (param $code i32)
    (if (i32.ne (local.get $got) (local.get $want))
      (then (call $proc_exit (local.get $code)))))

  (func $open (param $p i32) (param $len i32) (param $follow i32) (result i32)
    (call $path_open (i32.const 3) (local.get $follow) (local.get $p) (local.get $len)
      (i32.const 0) (i64.const 0x7fffffff) (i64.const 0) (i32.const 0) (i32.const 256)))

  (func (export "_start")
    (call $expect (call $fd_prestat_get (i32.const 0) (i32.const 256)) (i32.const 8) (i32.const 11))
    (call $expect (call $fd_prestat_get (i32.const 3) (i32.const 256)) (i32.const 0) (i32.const 12))
    (call $expect (i32.load (i32.const 260)) (i32.const 8) (i32.const 12))
    (call $expect (call $open (i32.const 16) (i32.const 4) (i32.const 1)) (i32.const 76) (i32.const 13))
    (call $expect (call $open (i32.const 24) (i32.const 2) (i32.const 1)) (i32.const 76) (i32.const 14))
    (call $expect (call $open (i32.const 32) (i32.const 3) (i32.const 1)) (i32.const 76) (i32.const 15))
    (call $expect (call $open (i32.const 32) (i32.const 3) (i32.const 0)) (i32.const 32) (i32.const 16))
    (call $expect (call $open (i32.const 40) (i32.const 1) (i32.const 1)) (i32.const 0) (i32.const 17))
    (call $expect (i32.load (i32.const 256)) (i32.const 4) (i32.const 17))
    (call $expect (call $fd_seek (i32.const 4) (i64.const 1) (i32.const 0) (i32.const 264)) (i32.const 0) (i32.const 18))
    (call $expect (i32.wrap_i64 (i64.load (i32.const 264))) (i32.const 1) (i32.const 18))
    (call $expect (call $fd_read (i32.const 4) (i32.const 64) (i32.const 1) (i32.const 272)) (i32.const 0) (i32.const 19))
    (call $expect (i32.load (i32.const 272)) (i32.const 2) (i32.const 19))
    (call $expect (i32.load16_u (i32.const 128)) (i32.const 0x6362) (i32.const 19))
    (call $expect (call $fd_tell (i32.const 4) (i32.const 264)) (i32.const 0) (i32.const 20))
    (call $expect (i32.wrap_i64 (i64.load (i32.const 264))) (i32.const 3) (i32.const 20))
    (call $expect (call $fd_write (i32.const 4) (i32.const 80) (i32.const 1) (i32.const 272)) (i32.const 21) (i32.const 21))
    (call $expect (call $fd_renumber (i32.const 4) (i32.const 1)) (i32.const 0) (i32.const 22))
    (i32.store (i32.const 272) (i32.const 99))
    (call $expect (call $fd_read (i32.const 1) (i32.const 64) (i32.const 1) (i32.const 272)) (i32.const 0) (i32.const 22))
    (call $expect (i32.load (i32.const 272)) (i32.const 0) (i32.const 22))
    (call $proc_exit (i32.const 0)))
)
