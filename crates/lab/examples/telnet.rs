//! Serves the lab's fake telnet login on 127.0.0.1:2323 (for trying a client against it).
fn main() {
    let l = std::net::TcpListener::bind("127.0.0.1:2323").expect("bind 127.0.0.1:2323");
    l.set_nonblocking(true).expect("non-blocking");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    custos_lab::devices::serve_telnet(&l, ("root".into(), "xc3511".into()), &stop);
}
