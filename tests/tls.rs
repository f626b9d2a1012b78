//! HTTPS end to end with certificates made here (rcgen): `modspec run
//! --target https://… --cacert ca.pem` against `modspec serve --tls-cert
//! --tls-key` passes the whole library; every certificate problem is exit
//! status 2 with its cause in words (unknown issuer, wrong name, expired,
//! plain HTTP on the TLS port, TLS against a plain port); `--insecure`
//! warns once; and `--cacert` works against a TLS server that is not
//! modspec's own (a bare tokio-rustls listener).

mod common;

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::child::{Serve, bin};
use modspec::client::TlsOptions;
use modspec::runner::{Connect, TargetError, connect};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, date_time_ymd};

/// A CA and three server certificates it signed, as PEM files.
struct Pki {
    dir: PathBuf,
}

impl Pki {
    fn new() -> Pki {
        let dir = std::env::temp_dir().join(format!("modspec-tls-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
        std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
        let leaf = |name: &str, names: &[&str], expired: bool| {
            let mut p = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
            if expired {
                p.not_before = date_time_ymd(2020, 1, 1);
                p.not_after = date_time_ymd(2021, 1, 1);
            }
            let key = KeyPair::generate().unwrap();
            let cert = p.signed_by(&key, &ca).unwrap();
            std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).unwrap();
            std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
        };
        leaf("good", &["127.0.0.1", "localhost"], false);
        leaf("wrong-name", &["other.example"], false);
        leaf("expired", &["127.0.0.1"], true);
        Pki { dir }
    }

    fn path(&self, file: &str) -> String {
        self.dir.join(file).display().to_string()
    }

    /// `modspec serve` with the certificate `name`; its address.
    fn serve(&self, name: &str) -> (Serve, String) {
        let cert = self.path(&format!("{name}.pem"));
        let key = self.path(&format!("{name}.key"));
        let mut s = Serve::start(&["--listen", "127.0.0.1:0", "--tls-cert", &cert, "--tls-key", &key]);
        let addr = s.addr().to_string();
        (s, addr)
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `modspec run` with these arguments: exit code and stdout + stderr.
fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(bin()).arg("run").args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// A few trials, enough to prove the connection works.
const SOME: [&str; 2] = ["--filter", "bandwidth/out-range"];

#[test]
fn the_whole_library_passes_over_https_with_the_ca() {
    let pki = Pki::new();
    let (_s, addr) = pki.serve("good");
    let (code, out) = run(&["--target", &format!("https://{addr}/"), "--cacert", &pki.path("ca.pem")]);
    assert_eq!(code, 0, "{out}");
    let summary = out.lines().rev().find(|l| l.contains(" passed, ")).unwrap_or_default();
    assert!(summary.contains(" 0 failed, 0 errors, 0 skipped"), "{summary}");
    // Also by name: the certificate names localhost too.
    let port = addr.rsplit(':').next().unwrap();
    let url = format!("https://localhost:{port}/");
    let (code, out) = run(&["--target", &url, "--cacert", &pki.path("ca.pem"), SOME[0], SOME[1]]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn without_the_ca_the_issuer_is_unknown_and_insecure_warns_once() {
    let pki = Pki::new();
    let (_s, addr) = pki.serve("good");
    let url = format!("https://{addr}/");
    let (code, out) = run(&["--target", &url, SOME[0], SOME[1]]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("TLS: the certificate's issuer is unknown"), "{out}");
    let (code, out) = run(&["--target", &url, "--insecure", SOME[0], SOME[1]]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.matches("warning: --insecure").count(), 1, "{out}");
}

#[test]
fn a_certificate_for_another_name_or_expired_is_named() {
    let pki = Pki::new();
    let ca = pki.path("ca.pem");
    for (cert, words) in [
        (
            "wrong-name",
            "TLS: the certificate is not valid for the name `127.0.0.1`: it names other.example",
        ),
        (
            "expired",
            "TLS: the certificate has expired (on 2021-01-01 00:00:00 UTC)",
        ),
    ] {
        let (_s, addr) = pki.serve(cert);
        let (code, out) = run(&[
            "--target",
            &format!("https://{addr}/"),
            "--cacert",
            &ca,
            SOME[0],
            SOME[1],
        ]);
        assert_eq!(code, 2, "{cert}: {out}");
        assert!(out.contains(words), "{cert}: {out}");
    }
}

#[test]
fn plain_http_and_tls_on_the_wrong_ports_are_named() {
    let pki = Pki::new();
    let (_tls, tls_addr) = pki.serve("good");
    let (code, out) = run(&["--target", &format!("http://{tls_addr}/"), SOME[0], SOME[1]]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("this port speaks HTTPS (TLS) and the request came in plain HTTP"),
        "{out}"
    );
    let mut plain = Serve::start(&["--listen", "127.0.0.1:0"]);
    let plain_addr = plain.addr();
    let (code, out) = run(&["--target", &format!("https://{plain_addr}/"), SOME[0], SOME[1]]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("TLS: the target does not speak TLS on this port"), "{out}");
}

#[test]
fn serve_refuses_unusable_certificate_files_in_words() {
    let pki = Pki::new();
    let serve = |cert: &str, key: &str| {
        let out = Command::new(bin())
            .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key])
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, err) = serve(&pki.path("good.key"), &pki.path("good.key"));
    assert!(code == Some(2) && err.contains("no PEM certificate"), "{err}");
    let (code, err) = serve(&pki.path("good.pem"), &pki.path("good.pem"));
    assert!(code == Some(2) && err.contains("no PEM private key"), "{err}");
    let (code, err) = serve(&pki.path("good.pem"), &pki.path("expired.key"));
    assert!(code == Some(2) && err.contains("cannot be used together"), "{err}");
    let (code, err) = serve(&pki.path("good.pem"), "/nonexistent/key.pem");
    assert!(
        code == Some(2) && err.contains("cannot read /nonexistent/key.pem"),
        "{err}"
    );
}

/// A TLS server that is not modspec's: tokio-rustls and hyper answering
/// every request with a capabilities document.
async fn foreign_tls_server(pki: &Pki) -> String {
    use rustls::pki_types::pem::PemObject;
    let certs = rustls::pki_types::CertificateDer::pem_file_iter(pki.path("good.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(pki.path("good.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let svc = hyper::service::service_fn(|_req| async {
                    let doc = r#"{"protocol":"modspec-control/1","capabilities":["core"]}"#;
                    Ok::<_, Infallible>(
                        hyper::Response::builder()
                            .header("content-type", "application/json")
                            .body(axum::body::Body::from(doc))
                            .unwrap(),
                    )
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cacert_works_against_a_tls_server_that_is_not_modspecs() {
    let pki = Pki::new();
    let url = foreign_tls_server(&pki).await;
    let with = |tls: TlsOptions| Connect {
        tls,
        ..Connect::new(url.parse().unwrap(), Duration::from_secs(5))
    };
    let trusted = TlsOptions {
        ca_files: vec![Path::new(&pki.path("ca.pem")).to_path_buf()],
        insecure: false,
    };
    let (ctx, info) = connect(&with(trusted)).await.expect("TLS with the CA");
    assert!(ctx.control.is_some(), "{info:?}");
    match connect(&with(TlsOptions::default())).await {
        Err(TargetError::Tls { cause, .. }) => assert!(cause.contains("issuer is unknown"), "{cause}"),
        Err(e) => panic!("not a TLS error: {e}"),
        Ok(_) => panic!("an unknown issuer was trusted"),
    }
    // A --cacert file without a certificate is a clear error, not "no roots".
    let bogus = TlsOptions {
        ca_files: vec![Path::new(&pki.path("good.key")).to_path_buf()],
        insecure: false,
    };
    match connect(&with(bogus)).await {
        Err(e) => assert!(e.to_string().contains("no PEM certificate"), "{e}"),
        Ok(_) => panic!("a key file was taken for a CA"),
    }
}
