;; Exact errno cases of the p1 socket calls. Run as
;;   wasinet run --dir D --listen 127.0.0.1:0 sock-errno.wasm
;; with a regular file D/file.txt, so fd 3 is the preopened directory and fd 4 the listener.
;; Prints one "name=value" line per check on stdout (value: the errno, or a fetched number).
;; Lock-step with the test's client:
;;   "ready=0"    printed before the blocking accept: the client connects then (sending nothing);
;;   "waiting=0"  printed before the blocking recv: the client sends "ping" then.
;; Ends with "done=0" and exit status 0.
;;
;; sock_accept's flags are the fdflags of the NEW socket (as in wasmtime and wasi-libc's accept4);
;; whether the call itself blocks depends on the listener's own fdflags (fcntl O_NONBLOCK, that is
;; fd_fdstat_set_flags).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "sock_accept" (func $sock_accept (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_recv" (func $sock_recv (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_send" (func $sock_send (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_shutdown" (func $sock_shutdown (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fd_fdstat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func $fd_fdstat_set_flags (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (memory (export "memory") 1)

  ;; Memory map:
  ;;   0..15     iovec + nwritten for $emit     16..47 digits      56 one byte for $emit_byte
  ;;   1024      "file.txt"
  ;;   1100      fd from path_open      1104 fd from sock_accept
  ;;   1200      prestat / fdstat buffer (24 bytes: filetype u8 @0, fs_flags u16 @2, rights @8, @16)
  ;;   1300      ro_datalen / so_datalen     1304 ro_flags
  ;;   1400      iovec with a wild buffer pointer    1408 iovec of the receive buffer
  ;;   1500      receive buffer (64 bytes)
  ;;   2048..    check names, NUL-terminated, 32 bytes each: name k at 2048 + 32*k
  (data (i32.const 1024) "file.txt")
  (data (i32.const 2048) "prestat_dir\00")            ;; 0
  (data (i32.const 2080) "path_open\00")              ;; 1
  (data (i32.const 2112) "accept_dir\00")             ;; 2
  (data (i32.const 2144) "accept_file\00")            ;; 3
  (data (i32.const 2176) "accept_badf\00")            ;; 4
  (data (i32.const 2208) "shutdown_file\00")          ;; 5
  (data (i32.const 2240) "shutdown_dir\00")           ;; 6
  (data (i32.const 2272) "recv_file\00")              ;; 7
  (data (i32.const 2304) "prestat_listener\00")       ;; 8
  (data (i32.const 2336) "fdstat_listener\00")        ;; 9
  (data (i32.const 2368) "listener_filetype\00")      ;; 10
  (data (i32.const 2400) "listener_set_nonblock\00")  ;; 11
  (data (i32.const 2432) "listener_fdflags\00")       ;; 12
  (data (i32.const 2464) "accept_nonblock\00")        ;; 13
  (data (i32.const 2496) "listener_set_blocking\00")  ;; 14
  (data (i32.const 2528) "ready\00")                  ;; 15
  (data (i32.const 2560) "accept\00")                 ;; 16
  (data (i32.const 2592) "fdstat_conn\00")            ;; 17
  (data (i32.const 2624) "conn_filetype\00")          ;; 18
  (data (i32.const 2656) "conn_fdflags\00")           ;; 19
  (data (i32.const 2688) "recv_nonblock\00")          ;; 20
  (data (i32.const 2720) "conn_set_blocking\00")      ;; 21
  (data (i32.const 2752) "prestat_conn\00")           ;; 22
  (data (i32.const 2784) "recv_wild_iovs\00")         ;; 23
  (data (i32.const 2816) "recv_wild_buf\00")          ;; 24
  (data (i32.const 2848) "send_wild_iovs\00")         ;; 25
  (data (i32.const 2880) "send_wild_buf\00")          ;; 26
  (data (i32.const 2912) "waiting\00")                ;; 27
  (data (i32.const 2944) "recv\00")                   ;; 28
  (data (i32.const 2976) "recv_len\00")               ;; 29
  (data (i32.const 3008) "send\00")                   ;; 30
  (data (i32.const 3040) "send_len\00")               ;; 31
  (data (i32.const 3072) "shutdown_conn\00")          ;; 32
  (data (i32.const 3104) "close_conn\00")             ;; 33
  (data (i32.const 3136) "accept_closed\00")          ;; 34
  (data (i32.const 3168) "done\00")                   ;; 35

  (func $emit (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))

  (func $emit_byte (param $b i32)
    (i32.store8 (i32.const 56) (local.get $b))
    (call $emit (i32.const 56) (i32.const 1)))

  ;; Unsigned decimal, built backwards from 48.
  (func $emit_num (param $n i32) (local $p i32)
    (local.set $p (i32.const 48))
    (loop $digits
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p) (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $digits (local.get $n)))
    (call $emit (local.get $p) (i32.sub (i32.const 48) (local.get $p))))

  (func $strlen (param $p i32) (result i32) (local $q i32)
    (local.set $q (local.get $p))
    (block $end
      (loop $scan
        (br_if $end (i32.eqz (i32.load8_u (local.get $q))))
        (local.set $q (i32.add (local.get $q) (i32.const 1)))
        (br $scan)))
    (i32.sub (local.get $q) (local.get $p)))

  ;; Prints "<name k>=<value>\n".
  (func $report (param $k i32) (param $value i32) (local $name i32)
    (local.set $name (i32.add (i32.const 2048) (i32.mul (local.get $k) (i32.const 32))))
    (call $emit (local.get $name) (call $strlen (local.get $name)))
    (call $emit_byte (i32.const 61))
    (call $emit_num (local.get $value))
    (call $emit_byte (i32.const 10)))

  (func $recv (param $fd i32) (param $iovs i32) (result i32)
    (call $sock_recv (local.get $fd) (local.get $iovs) (i32.const 1) (i32.const 0) (i32.const 1300) (i32.const 1304)))

  (func (export "_start") (local $file i32) (local $conn i32)
    ;; --- the preopened directory and a regular file in it
    (call $report (i32.const 0) (call $fd_prestat_get (i32.const 3) (i32.const 1200)))
    (i32.store (i32.const 1100) (i32.const 9999))
    (call $report (i32.const 1)
      (call $path_open (i32.const 3) (i32.const 0) (i32.const 1024) (i32.const 8) (i32.const 0)
        (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 1100)))
    (local.set $file (i32.load (i32.const 1100)))

    ;; --- socket calls on things that are not sockets
    (call $report (i32.const 2) (call $sock_accept (i32.const 3) (i32.const 0) (i32.const 1104)))
    (call $report (i32.const 3) (call $sock_accept (local.get $file) (i32.const 0) (i32.const 1104)))
    (call $report (i32.const 4) (call $sock_accept (i32.const 1234) (i32.const 0) (i32.const 1104)))
    (call $report (i32.const 5) (call $sock_shutdown (local.get $file) (i32.const 2)))
    (call $report (i32.const 6) (call $sock_shutdown (i32.const 3) (i32.const 3)))
    (i32.store (i32.const 1408) (i32.const 1500))
    (i32.store (i32.const 1412) (i32.const 64))
    (call $report (i32.const 7) (call $recv (local.get $file) (i32.const 1408)))

    ;; --- the listener at fd 4
    (call $report (i32.const 8) (call $fd_prestat_get (i32.const 4) (i32.const 1200)))
    (i32.store8 (i32.const 1200) (i32.const 255))
    (call $report (i32.const 9) (call $fd_fdstat_get (i32.const 4) (i32.const 1200)))
    (call $report (i32.const 10) (i32.load8_u (i32.const 1200)))
    ;; made non-blocking (fcntl O_NONBLOCK): accept with nothing pending (the client waits for "ready")
    (call $report (i32.const 11) (call $fd_fdstat_set_flags (i32.const 4) (i32.const 4)))
    (drop (call $fd_fdstat_get (i32.const 4) (i32.const 1200)))
    (call $report (i32.const 12) (i32.load16_u (i32.const 1202)))
    (call $report (i32.const 13) (call $sock_accept (i32.const 4) (i32.const 0) (i32.const 1104)))
    (call $report (i32.const 14) (call $fd_fdstat_set_flags (i32.const 4) (i32.const 0)))
    (call $report (i32.const 15) (i32.const 0))

    ;; --- a connection, accepted (blocking) with fdflags.nonblock for the new fd
    (i32.store (i32.const 1104) (i32.const 9999))
    (call $report (i32.const 16) (call $sock_accept (i32.const 4) (i32.const 4) (i32.const 1104)))
    (local.set $conn (i32.load (i32.const 1104)))
    (i32.store (i32.const 1200) (i32.const 0xffffffff))
    (call $report (i32.const 17) (call $fd_fdstat_get (local.get $conn) (i32.const 1200)))
    (call $report (i32.const 18) (i32.load8_u (i32.const 1200)))
    (call $report (i32.const 19) (i32.load16_u (i32.const 1202)))
    ;; the client has sent nothing yet
    (call $report (i32.const 20) (call $recv (local.get $conn) (i32.const 1408)))
    (call $report (i32.const 21) (call $fd_fdstat_set_flags (local.get $conn) (i32.const 0)))
    (call $report (i32.const 22) (call $fd_prestat_get (local.get $conn) (i32.const 1200)))

    ;; wild pointers on a blocking socket with no data: must fail at once, not wait
    (call $report (i32.const 23) (call $recv (local.get $conn) (i32.const 0xfffffff0)))
    (i32.store (i32.const 1400) (i32.const 0xffff0000))
    (i32.store (i32.const 1404) (i32.const 16))
    (call $report (i32.const 24) (call $recv (local.get $conn) (i32.const 1400)))
    (call $report (i32.const 25)
      (call $sock_send (local.get $conn) (i32.const 0xfffffff0) (i32.const 1) (i32.const 0) (i32.const 1300)))
    (call $report (i32.const 26)
      (call $sock_send (local.get $conn) (i32.const 1400) (i32.const 1) (i32.const 0) (i32.const 1300)))

    ;; a blocking receive (the client sends "ping" on "waiting") and an echo of what came
    (call $report (i32.const 27) (i32.const 0))
    (i32.store (i32.const 1300) (i32.const 9999))
    (call $report (i32.const 28) (call $recv (local.get $conn) (i32.const 1408)))
    (call $report (i32.const 29) (i32.load (i32.const 1300)))
    (i32.store (i32.const 1412) (i32.load (i32.const 1300)))
    (i32.store (i32.const 1300) (i32.const 9999))
    (call $report (i32.const 30)
      (call $sock_send (local.get $conn) (i32.const 1408) (i32.const 1) (i32.const 0) (i32.const 1300)))
    (call $report (i32.const 31) (i32.load (i32.const 1300)))
    (call $report (i32.const 32) (call $sock_shutdown (local.get $conn) (i32.const 2)))

    ;; closing the connection; its fd is then bad
    (call $report (i32.const 33) (call $fd_close (local.get $conn)))
    (call $report (i32.const 34) (call $sock_accept (local.get $conn) (i32.const 0) (i32.const 1104)))
    (call $report (i32.const 35) (i32.const 0))
    (call $proc_exit (i32.const 0)))
)
