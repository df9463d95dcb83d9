;; Exact errno cases of the p1 socket calls. Run as
;;   wasinet run --dir D --listen 127.0.0.1:0 sock-errno.wasm
;; with a regular file D/file.txt, so fd 3 is the preopened directory and fd 4 the listener.
;; Prints one "name=value" line per check on stdout (value: the errno, or a fetched number), then
;; "ready" before the blocking accept: the test connects only then, and sends "ping".
;; Exits 0 at the end ("done=0").
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "sock_accept" (func $sock_accept (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_recv" (func $sock_recv (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_send" (func $sock_send (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_shutdown" (func $sock_shutdown (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fd_fdstat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (memory (export "memory") 1)

  ;; Memory map:
  ;;   0..15     iovec + nwritten for $emit     16..47 digits      56 one byte for $emit_byte
  ;;   256..     check names, 32 bytes each, NUL-terminated (name k at 256 + 32*k)
  ;;   1024      "file.txt"
  ;;   1100      fd from path_open      1104 fd from sock_accept
  ;;   1200      prestat / fdstat buffer (24 bytes)
  ;;   1300      ro_datalen / so_datalen     1304 ro_flags
  ;;   1400      iovec with a wild buffer pointer    1408 iovec of the receive buffer
  ;;   1500      receive buffer (64 bytes)
  (data (i32.const 256) "prestat_dir\00")          ;; 0
  (data (i32.const 288) "path_open\00")            ;; 1
  (data (i32.const 320) "accept_dir\00")           ;; 2
  (data (i32.const 352) "accept_file\00")          ;; 3
  (data (i32.const 384) "accept_badf\00")          ;; 4
  (data (i32.const 416) "shutdown_file\00")        ;; 5
  (data (i32.const 448) "shutdown_dir\00")         ;; 6
  (data (i32.const 480) "recv_file\00")            ;; 7
  (data (i32.const 512) "prestat_listener\00")     ;; 8
  (data (i32.const 544) "fdstat_listener\00")      ;; 9
  (data (i32.const 576) "listener_filetype\00")    ;; 10
  (data (i32.const 608) "accept_nonblock\00")      ;; 11
  (data (i32.const 640) "ready\00")                ;; 12
  (data (i32.const 672) "accept\00")               ;; 13
  (data (i32.const 704) "fdstat_conn\00")          ;; 14
  (data (i32.const 736) "conn_filetype\00")        ;; 15
  (data (i32.const 768) "prestat_conn\00")         ;; 16
  (data (i32.const 800) "recv_wild_iovs\00")       ;; 17
  (data (i32.const 832) "recv_wild_buf\00")        ;; 18
  (data (i32.const 864) "send_wild_iovs\00")       ;; 19
  (data (i32.const 896) "recv\00")                 ;; 20
  (data (i32.const 928) "recv_len\00")             ;; 21
  (data (i32.const 960) "send\00")                 ;; 22
  (data (i32.const 992) "shutdown_conn\00")        ;; 23
  (data (i32.const 1024) "file.txt")
  (data (i32.const 1040) "close_conn\00")          ;; extra names past the file name
  (data (i32.const 1072) "accept_closed\00")
  (data (i32.const 1600) "send_wild_buf\00")
  (data (i32.const 1632) "send_len\00")
  (data (i32.const 1664) "done\00")

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

  ;; Prints "<name>=<value>\n".
  (func $report (param $name i32) (param $value i32)
    (call $emit (local.get $name) (call $strlen (local.get $name)))
    (call $emit_byte (i32.const 61))
    (call $emit_num (local.get $value))
    (call $emit_byte (i32.const 10)))

  (func (export "_start") (local $file i32) (local $conn i32)
    ;; --- the preopened directory and a regular file in it
    (call $report (i32.const 256) (call $fd_prestat_get (i32.const 3) (i32.const 1200)))
    (i32.store (i32.const 1100) (i32.const 9999))
    (call $report (i32.const 288)
      (call $path_open (i32.const 3) (i32.const 0) (i32.const 1024) (i32.const 8) (i32.const 0)
        (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 1100)))
    (local.set $file (i32.load (i32.const 1100)))

    ;; --- socket calls on things that are not sockets
    (call $report (i32.const 320) (call $sock_accept (i32.const 3) (i32.const 0) (i32.const 1104)))
    (call $report (i32.const 352) (call $sock_accept (local.get $file) (i32.const 0) (i32.const 1104)))
    (call $report (i32.const 384) (call $sock_accept (i32.const 1234) (i32.const 0) (i32.const 1104)))
    (call $report (i32.const 416) (call $sock_shutdown (local.get $file) (i32.const 2)))
    (call $report (i32.const 448) (call $sock_shutdown (i32.const 3) (i32.const 3)))
    (i32.store (i32.const 1408) (i32.const 1500))
    (i32.store (i32.const 1412) (i32.const 64))
    (call $report (i32.const 480)
      (call $sock_recv (local.get $file) (i32.const 1408) (i32.const 1) (i32.const 0) (i32.const 1300) (i32.const 1304)))

    ;; --- the listener at fd 4
    (call $report (i32.const 512) (call $fd_prestat_get (i32.const 4) (i32.const 1200)))
    (i32.store8 (i32.const 1200) (i32.const 255))
    (call $report (i32.const 544) (call $fd_fdstat_get (i32.const 4) (i32.const 1200)))
    (call $report (i32.const 576) (i32.load8_u (i32.const 1200)))
    ;; fdflags.nonblock = 4; nothing has connected yet (the test waits for "ready")
    (call $report (i32.const 608) (call $sock_accept (i32.const 4) (i32.const 4) (i32.const 1104)))
    (call $report (i32.const 640) (i32.const 0))

    ;; --- a connection: the test connects and sends "ping"
    (i32.store (i32.const 1104) (i32.const 9999))
    (call $report (i32.const 672) (call $sock_accept (i32.const 4) (i32.const 0) (i32.const 1104)))
    (local.set $conn (i32.load (i32.const 1104)))
    (i32.store8 (i32.const 1200) (i32.const 255))
    (call $report (i32.const 704) (call $fd_fdstat_get (local.get $conn) (i32.const 1200)))
    (call $report (i32.const 736) (i32.load8_u (i32.const 1200)))
    (call $report (i32.const 768) (call $fd_prestat_get (local.get $conn) (i32.const 1200)))

    ;; wild pointers: the iovec array itself, then a buffer an iovec points at (neither may consume data)
    (call $report (i32.const 800)
      (call $sock_recv (local.get $conn) (i32.const 0xfffffff0) (i32.const 1) (i32.const 0) (i32.const 1300) (i32.const 1304)))
    (i32.store (i32.const 1400) (i32.const 0xffff0000))
    (i32.store (i32.const 1404) (i32.const 16))
    (call $report (i32.const 832)
      (call $sock_recv (local.get $conn) (i32.const 1400) (i32.const 1) (i32.const 0) (i32.const 1300) (i32.const 1304)))
    (call $report (i32.const 864)
      (call $sock_send (local.get $conn) (i32.const 0xfffffff0) (i32.const 1) (i32.const 0) (i32.const 1300)))
    (call $report (i32.const 1600)
      (call $sock_send (local.get $conn) (i32.const 1400) (i32.const 1) (i32.const 0) (i32.const 1300)))

    ;; a good receive and an echo of what came
    (i32.store (i32.const 1300) (i32.const 9999))
    (call $report (i32.const 896)
      (call $sock_recv (local.get $conn) (i32.const 1408) (i32.const 1) (i32.const 0) (i32.const 1300) (i32.const 1304)))
    (call $report (i32.const 928) (i32.load (i32.const 1300)))
    (i32.store (i32.const 1412) (i32.load (i32.const 1300)))
    (i32.store (i32.const 1300) (i32.const 9999))
    (call $report (i32.const 960)
      (call $sock_send (local.get $conn) (i32.const 1408) (i32.const 1) (i32.const 0) (i32.const 1300)))
    (call $report (i32.const 1632) (i32.load (i32.const 1300)))
    (call $report (i32.const 992) (call $sock_shutdown (local.get $conn) (i32.const 2)))

    ;; closing the connection; its fd is then bad
    (call $report (i32.const 1040) (call $fd_close (local.get $conn)))
    (call $report (i32.const 1072) (call $sock_accept (local.get $conn) (i32.const 0) (i32.const 1104)))
    (call $report (i32.const 1664) (i32.const 0))
    (call $proc_exit (i32.const 0)))
)
