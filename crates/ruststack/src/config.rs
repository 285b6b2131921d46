//! Configuration: command-line flags first, then environment variables (ours and LocalStack's),
//! then defaults, parsed once into a [`Config`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub const HELP: &str = "\
ruststack — a local AWS cloud emulator on one port

Usage: ruststack [OPTIONS]

Options:
  --host <HOST>                 Address to listen on [env: RUSTSTACK_HOST] [default: 127.0.0.1]
  --port <PORT>                 Port to listen on [env: RUSTSTACK_PORT] [default: 4566]
                                (LocalStack's GATEWAY_LISTEN=host:port is honoured too)
  --services <LIST>             Comma-separated services to enable [env: SERVICES] [default: all]
  --log-level <LEVEL>           error, warn, info, debug or trace [env: RUST_LOG] [default: info]
  --default-account-id <ID>     Account of non-numeric access keys [env: RUSTSTACK_ACCOUNT_ID]
                                [default: 000000000000]
  --default-region <REGION>     Region of unsigned requests [env: RUSTSTACK_REGION] [default: us-east-1]
  --enforce-sigv4               Verify SigV4 signatures [env: RUSTSTACK_ENFORCE_SIGV4=1]
  --credentials <FILE>          Extra credentials for --enforce-sigv4: lines 'ACCESS_KEY SECRET_KEY'
                                or an AWS credentials file [env: RUSTSTACK_CREDENTIALS]
  --disable-cors                Do not add CORS headers [env: DISABLE_CORS_CHECKS=1]
  --shutdown-timeout <SECS>     How long in-flight requests may finish on SIGTERM [default: 10]
  --data-dir <DIR>              Keep all state in DIR, safe across restarts and crashes; one server
                                per DIR [env: RUSTSTACK_DATA_DIR] [default: in memory only]
                                (LocalStack's PERSISTENCE=1 is honoured too: DIR is then DATA_DIR,
                                or ./.ruststack when DATA_DIR is unset)
  -V, --version                 Print the version
  -h, --help                    Print this help
";

/// The whole configuration of a server.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// `None` means every service.
    pub services: Option<Vec<String>>,
    pub log_level: String,
    pub default_account: String,
    pub default_region: String,
    pub enforce_sigv4: bool,
    /// Access key → secret key, used when `enforce_sigv4` is on.
    pub credentials: HashMap<String, String>,
    pub cors: bool,
    pub shutdown_timeout: Duration,
    /// Where state is kept (`--data-dir`); `None` keeps it in memory.
    pub data_dir: Option<PathBuf>,
}

/// The data directory of LocalStack's `PERSISTENCE=1` when `DATA_DIR` is unset: beside where the
/// server was started, not LocalStack's container path `/var/lib/localstack`, which a binary run
/// on a workstation cannot usually create (set `DATA_DIR` to use it in a container).
pub const DEFAULT_PERSISTENCE_DIR: &str = ".ruststack";

/// What the command line asked for besides running.
pub enum Command {
    Run(Box<Config>),
    Help,
    Version,
}

fn truthy(v: &str) -> bool {
    matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
}

impl Config {
    /// Parses flags and the environment (`env` is injected for tests).
    pub fn parse(args: Vec<String>, env: &dyn Fn(&str) -> Option<String>) -> Result<Command, String> {
        use lexopt::prelude::*;
        let mut host = env("RUSTSTACK_HOST");
        let mut port = env("RUSTSTACK_PORT");
        if let Some(listen) = env("GATEWAY_LISTEN") {
            // LocalStack's form: `host:port`, possibly a comma-separated list (we take the first).
            let first = listen.split(',').next().unwrap_or_default().trim().to_owned();
            match first.rsplit_once(':') {
                Some((h, p)) => {
                    host = host.or((!h.is_empty()).then(|| h.to_owned()));
                    port = port.or(Some(p.to_owned()));
                }
                None => host = host.or(Some(first)),
            }
        }
        let mut services = env("SERVICES").or_else(|| env("RUSTSTACK_SERVICES"));
        let mut log_level = env("RUST_LOG").or_else(|| env("RUSTSTACK_LOG_LEVEL"));
        let mut account = env("RUSTSTACK_ACCOUNT_ID");
        let mut region = env("RUSTSTACK_REGION").or_else(|| env("DEFAULT_REGION"));
        let mut enforce = env("RUSTSTACK_ENFORCE_SIGV4").is_some_and(|v| truthy(&v));
        let mut credentials_file = env("RUSTSTACK_CREDENTIALS");
        let mut cors = !env("DISABLE_CORS_CHECKS").is_some_and(|v| truthy(&v));
        let mut shutdown_timeout = 10u64;
        let nonempty = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
        let mut data_dir = nonempty(env("RUSTSTACK_DATA_DIR")).map(PathBuf::from).or_else(|| {
            env("PERSISTENCE").is_some_and(|v| truthy(&v)).then(|| {
                nonempty(env("DATA_DIR")).map_or_else(|| PathBuf::from(DEFAULT_PERSISTENCE_DIR), PathBuf::from)
            })
        });

        let mut parser = lexopt::Parser::from_iter(args);
        while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
            match arg {
                Long("host") => host = Some(value(&mut parser)?),
                Long("port") | Short('p') => port = Some(value(&mut parser)?),
                Long("services") => services = Some(value(&mut parser)?),
                Long("log-level") => log_level = Some(value(&mut parser)?),
                Long("default-account-id") => account = Some(value(&mut parser)?),
                Long("default-region") => region = Some(value(&mut parser)?),
                Long("enforce-sigv4") => enforce = true,
                Long("credentials") => credentials_file = Some(value(&mut parser)?),
                Long("disable-cors") => cors = false,
                Long("shutdown-timeout") => {
                    shutdown_timeout =
                        value(&mut parser)?.parse().map_err(|_| "--shutdown-timeout takes seconds".to_owned())?
                }
                Long("data-dir") => {
                    let dir = parser.value().map_err(|e| e.to_string())?;
                    if dir.is_empty() {
                        return Err("--data-dir needs a directory".to_owned());
                    }
                    data_dir = Some(PathBuf::from(dir));
                }
                Long("help") | Short('h') => return Ok(Command::Help),
                Long("version") | Short('V') => return Ok(Command::Version),
                other => return Err(format!("{}; see --help", other.unexpected())),
            }
        }

        let host = host.unwrap_or_else(|| "127.0.0.1".into());
        let port: u16 = match port {
            Some(p) => p.trim().parse().map_err(|_| format!("invalid port '{p}'"))?,
            None => 4566,
        };
        let host = if host == "localhost" { "127.0.0.1".to_owned() } else { host };
        let ip: std::net::IpAddr =
            host.trim_matches(['[', ']']).parse().map_err(|_| format!("invalid host '{host}'"))?;
        let default_account = account.unwrap_or_else(|| "000000000000".into());
        if default_account.len() != 12 || !default_account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("the default account id must be 12 digits, not '{default_account}'"));
        }
        let mut credentials = HashMap::from([("test".to_owned(), "test".to_owned())]);
        if let Some(path) = credentials_file {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("cannot read credentials file {path}: {e}"))?;
            credentials.extend(parse_credentials(&text));
        }
        let services = services
            .map(|s| s.split(',').map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty()).collect::<Vec<_>>())
            .filter(|s| !s.is_empty());
        Ok(Command::Run(Box::new(Config {
            listen: SocketAddr::new(ip, port),
            services,
            log_level: log_level.unwrap_or_else(|| "info".into()),
            default_account,
            default_region: region.unwrap_or_else(|| "us-east-1".into()),
            enforce_sigv4: enforce,
            credentials,
            cors,
            shutdown_timeout: Duration::from_secs(shutdown_timeout),
            data_dir,
        })))
    }

    /// Whether `service` is enabled.
    pub fn enabled(&self, service: &str) -> bool {
        self.services.as_ref().is_none_or(|list| list.iter().any(|s| s == service))
    }
}

/// The value of the current flag.
fn value(parser: &mut lexopt::Parser) -> Result<String, String> {
    let raw = parser.value().map_err(|e| e.to_string())?;
    raw.into_string().map_err(|_| "argument is not UTF-8".to_owned())
}

/// Reads `ACCESS_KEY SECRET_KEY` lines, or an AWS credentials file's key pairs.
pub fn parse_credentials(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut pending_key: Option<String> = None;
    let mut pending_secret: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.starts_with('[') {
            pending_key = None;
            pending_secret = None;
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            match k.trim() {
                "aws_access_key_id" => pending_key = Some(v.trim().to_owned()),
                "aws_secret_access_key" => pending_secret = Some(v.trim().to_owned()),
                _ => {}
            }
            if let (Some(k), Some(s)) = (&pending_key, &pending_secret) {
                out.push((k.clone(), s.clone()));
                pending_key = None;
                pending_secret = None;
            }
        } else if let Some((k, s)) = line.split_once(char::is_whitespace) {
            out.push((k.trim().to_owned(), s.trim().to_owned()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str], env: &[(&str, &str)]) -> Config {
        let env: HashMap<String, String> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let args = std::iter::once("ruststack").chain(args.iter().copied()).map(String::from).collect();
        match Config::parse(args, &|k| env.get(k).cloned()).unwrap() {
            Command::Run(c) => *c,
            _ => panic!("expected a run"),
        }
    }

    #[test]
    fn defaults() {
        let c = parse(&[], &[]);
        assert_eq!(c.listen.to_string(), "127.0.0.1:4566");
        assert!(c.services.is_none() && c.enabled("s3"));
        assert_eq!(c.default_account, "000000000000");
        assert!(c.cors && !c.enforce_sigv4);
        assert_eq!(c.credentials.get("test").map(String::as_str), Some("test"));
    }

    #[test]
    fn flags_beat_env_and_gateway_listen_is_honoured() {
        let c = parse(&[], &[("GATEWAY_LISTEN", "0.0.0.0:4567")]);
        assert_eq!(c.listen.to_string(), "0.0.0.0:4567");
        let c = parse(&["--port", "5000"], &[("RUSTSTACK_PORT", "6000"), ("GATEWAY_LISTEN", ":7000")]);
        assert_eq!(c.listen.port(), 5000);
        let c = parse(&["--services", "s3, DynamoDB"], &[]);
        assert!(c.enabled("s3") && c.enabled("dynamodb") && !c.enabled("sts"));
        let c = parse(&["--disable-cors", "--enforce-sigv4"], &[]);
        assert!(!c.cors && c.enforce_sigv4);
    }

    #[test]
    fn bad_values_are_errors_not_panics() {
        let run = |args: &[&str]| {
            let args = std::iter::once("ruststack").chain(args.iter().copied()).map(String::from).collect();
            Config::parse(args, &|_| None).err()
        };
        assert!(run(&["--port", "x"]).unwrap().contains("invalid port"));
        assert!(run(&["--bogus"]).is_some());
        assert!(run(&["--default-account-id", "12"]).unwrap().contains("12 digits"));
        assert!(run(&["--host", "not a host"]).is_some());
    }

    #[test]
    fn data_dir_from_the_flag_our_env_or_localstack_persistence() {
        assert_eq!(parse(&[], &[]).data_dir, None);
        assert_eq!(parse(&[], &[("DATA_DIR", "/ls")]).data_dir, None, "DATA_DIR alone does not persist");
        assert_eq!(parse(&[], &[("PERSISTENCE", "0"), ("DATA_DIR", "/ls")]).data_dir, None);
        let dir = |args: &[&str], env: &[(&str, &str)]| parse(args, env).data_dir.unwrap();
        assert_eq!(dir(&[], &[("PERSISTENCE", "1")]), PathBuf::from(".ruststack"));
        assert_eq!(dir(&[], &[("PERSISTENCE", "true"), ("DATA_DIR", "/ls")]), PathBuf::from("/ls"));
        assert_eq!(dir(&[], &[("PERSISTENCE", "1"), ("DATA_DIR", " ")]), PathBuf::from(".ruststack"));
        assert_eq!(
            dir(&[], &[("RUSTSTACK_DATA_DIR", "/ours"), ("PERSISTENCE", "1"), ("DATA_DIR", "/ls")]),
            PathBuf::from("/ours")
        );
        assert_eq!(dir(&["--data-dir", "/flag"], &[("RUSTSTACK_DATA_DIR", "/ours")]), PathBuf::from("/flag"));
        assert_eq!(dir(&["--data-dir=rel/dir"], &[]), PathBuf::from("rel/dir"));
        let err = Config::parse(vec!["ruststack".into(), "--data-dir".into(), "".into()], &|_| None).err();
        assert_eq!(err.as_deref(), Some("--data-dir needs a directory"));
        assert!(Config::parse(vec!["ruststack".into(), "--data-dir".into()], &|_| None).is_err());
        assert!(
            HELP.contains("--data-dir <DIR>") && HELP.contains("RUSTSTACK_DATA_DIR") && HELP.contains("PERSISTENCE=1")
        );
    }

    #[test]
    fn credentials_files_in_both_forms() {
        let text = "# comment\nAKIA1 secret1\n[default]\naws_access_key_id = AKIA2\naws_secret_access_key = secret2\n";
        assert_eq!(
            parse_credentials(text),
            vec![("AKIA1".into(), "secret1".into()), ("AKIA2".into(), "secret2".into())]
        );
    }
}
