use std::net::TcpListener;
use std::time::Duration;
use certs::{pki, Files};
use ch03_certificates_and_keys::*;
use openssl::ssl::Ssl;
use testkit::peers;

fn serve_one(acceptor: openssl::ssl::SslAcceptor, override_id: Option<&'static certs::Identity>) -> (std::net::SocketAddr, std::thread::JoinHandle<String>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let (tcp, _) = l.accept().unwrap();
        tcp.set_read_timeout(Some(testkit::IO_TIMEOUT)).unwrap();
        let mut ssl = Ssl::new(acceptor.context()).unwrap();
        if let Some(id) = override_id {
            if let Err(e) = use_for_this_connection(&mut ssl, &id.cert, &id.intermediates, &id.key) { return format!("override: {e}"); }
        }
        match ssl.accept(tcp) { Ok(mut s) => { let _ = s.shutdown(); "ok".into() }, Err(e) => testkit::explain::handshake(&e) }
    });
    (addr, h)
}

#[test]
fn exp() {
    let files = Files::new().unwrap();
    let p = pki();
    for (ctxid, ov, extra) in [(&p.server, Some(&p.server_rsa), vec!["-sigalgs", "rsa_pss_rsae_sha256:rsa_pss_rsae_sha384"]), (&p.server, Some(&p.server_rsa), vec!["-tls1_2", "-sigalgs", "rsa_pss_rsae_sha256:RSA+SHA256"]), (&p.server, None, vec!["-sigalgs", "rsa_pss_rsae_sha256:rsa_pss_rsae_sha384"]), (&p.server, Some(&p.server_chain), vec![])] {
        let acc = server_from_memory(&ctxid.cert, &ctxid.intermediates, &ctxid.key).unwrap();
        let (addr, h) = serve_one(acc, ov);
        let mut args = peers::verifying_client_args(&files);
        args.extend(extra.iter().map(|s| s.to_string()));
        let run = peers::run_s_client(addr, &args, b"", Duration::from_secs(10));
        let log = h.join().unwrap();
        let line = run.stdout.lines().filter(|l| l.contains("Peer signature type") || l.contains("Verify return") || l.contains("Server public key")).collect::<Vec<_>>().join(" | ");
        let pem = run.stdout.split("Server certificate\n").nth(1).unwrap_or("");
        let seen = openssl::x509::X509::from_pem(pem.as_bytes()).map(|c| certs::fingerprint(&c)).unwrap_or_default();
        let who = p.identities().into_iter().find(|i| i.fingerprint() == seen).map(|i| i.name).unwrap_or("?");
        println!("ctx={} ov={:?} {:?}: {} / {} / saw {}", ctxid.name, ov.map(|i| i.name), extra, line, log, who);
    }
    // mismatch checks
    let r = server_from_pem_files(&files.path("server.crt"), &files.path("client.key"));
    println!("same type mismatch: {:?}", r.err().map(|e| testkit::explain::stack(&e)));
    let r = server_from_pem_files(&files.path("server.crt"), &files.path("server-rsa.key"));
    println!("diff type mismatch: {:?}", r.err().map(|e| testkit::explain::stack(&e)));
    let r = key_from_encrypted_pem(std::fs::read(files.path("server.enc.key")).unwrap().as_slice(), "wrong");
    println!("wrong pass: {:?}", r.err().map(|e| testkit::explain::stack(&e)));
    let r = server_from_pem_files(&files.path("server.crt"), std::path::Path::new("/nonexistent/x.key"));
    println!("missing: {:?}", r.err().map(|e| testkit::explain::stack(&e)));
    let r = server_from_der_files(&files.path("server.crt.der"), &files.path("server.key.der"));
    println!("der: {:?}", r.err().map(|e| testkit::explain::stack(&e)));
    let r = server_from_der_files(&files.path("server.crt.der"), &files.path("client.key.der"));
    println!("der mismatch: {:?}", r.err().map(|e| testkit::explain::stack(&e)));
    let r = server_from_der_files(&files.path("server.crt.der"), &files.path("server-rsa.key.der"));
    println!("der diff type: {:?}", r.err().map(|e| testkit::explain::stack(&e)));
    let r = key_from_legacy_rsa_pem(std::fs::read(files.path("server.legacy.key")).unwrap().as_slice());
    println!("legacy ec as rsa: {:?}", r.err().map(|e| testkit::explain::stack(&e)));
    let r = key_from_legacy_rsa_pem(std::fs::read(files.path("server-rsa.key")).unwrap().as_slice());
    println!("pkcs8 rsa as legacy rsa: {:?}", r.err().map(|e| testkit::explain::stack(&e)));
    let r = key_from_pkcs8_der(std::fs::read(files.path("server.legacy.key")).unwrap().as_slice());
    println!("pem as der: {:?}", r.err().map(|e| testkit::explain::stack(&e)));
    // different type: handshake
    let mut b = server_builder().unwrap();
    b.set_certificate_chain_file(files.path("server.crt")).unwrap();
    b.set_private_key_file(files.path("server-rsa.key"), openssl::ssl::SslFiletype::PEM).unwrap();
    let (addr, h) = serve_one(b.build(), None);
    let run = peers::run_s_client(addr, &peers::verifying_client_args(&files), b"", Duration::from_secs(10));
    println!("diff type handshake: server {} / client {}", h.join().unwrap(), run.stderr);
    // leaf only for server-chain
    let mut b = server_builder().unwrap();
    b.set_certificate_file(files.path("server-chain.chain.crt"), openssl::ssl::SslFiletype::PEM).unwrap();
    b.set_private_key_file(files.path("server-chain.key"), openssl::ssl::SslFiletype::PEM).unwrap();
    let (addr, h) = serve_one(b.build(), None);
    let run = peers::run_s_client(addr, &peers::verifying_client_args(&files), b"", Duration::from_secs(10));
    println!("leaf only: server {} / client {:?} {}", h.join().unwrap(), run.code(), run.stdout.lines().filter(|l| l.contains("Verify")).collect::<Vec<_>>().join("|"));
}
