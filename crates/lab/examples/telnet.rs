//! Serves the lab's fake telnet login on 127.0.0.1:2323 (for trying a client against it).
fn main() {
    let l = std::net::TcpListener::bind("127.0.0.1:2323").expect("bind 127.0.0.1:2323");
    l.set_nonblocking(true).expect("non-blocking");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let login = custos_lab::devices::TelnetLogin {
        credential: ("root".into(), "xc3511".into()),
        fail_delay: std::time::Duration::from_millis(300),
    };
    custos_lab::devices::serve_telnet(&l, login, &stop);
}
