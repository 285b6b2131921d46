//! The runtime clients we ship for the managed runtimes, and how each runtime is started.
//!
//! `python3.x` runs our `bootstrap.py` with the machine's Python, `nodejs*.x` our `bootstrap.js`
//! with the machine's Node.js; both speak the Runtime API like AWS's own clients. `provided.*`
//! runs the package's (or a layer's) `bootstrap` executable as is. Interpreters come from
//! `RUSTSTACK_LAMBDA_<RUNTIME>` (e.g. `RUSTSTACK_LAMBDA_PYTHON3_12`), then `RUSTSTACK_LAMBDA_PYTHON`
//! / `RUSTSTACK_LAMBDA_NODE`, then `python3` / `node` on `PATH`.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

pub const PYTHON_BOOTSTRAP: &str = include_str!("bootstraps/bootstrap.py");
pub const NODE_BOOTSTRAP: &str = include_str!("bootstraps/bootstrap.js");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Python,
    Node,
    Provided,
}

/// Runtimes we can run, by family. Others (Java, .NET, Ruby) are accepted but end Failed.
pub fn family(runtime: &str) -> Option<Family> {
    match runtime {
        "python3.9" | "python3.10" | "python3.11" | "python3.12" | "python3.13" | "python3.14" => Some(Family::Python),
        "nodejs18.x" | "nodejs20.x" | "nodejs22.x" | "nodejs24.x" => Some(Family::Node),
        "provided" | "provided.al2" | "provided.al2023" => Some(Family::Provided),
        _ => None,
    }
}

/// Runtimes AWS no longer accepts for new functions or updates.
pub fn deprecated(runtime: &str) -> bool {
    matches!(
        runtime,
        "python2.7"
            | "python3.6"
            | "python3.7"
            | "python3.8"
            | "nodejs"
            | "nodejs4.3"
            | "nodejs4.3-edge"
            | "nodejs6.10"
            | "nodejs8.10"
            | "nodejs10.x"
            | "nodejs12.x"
            | "nodejs14.x"
            | "nodejs16.x"
            | "dotnetcore1.0"
            | "dotnetcore2.0"
            | "dotnetcore2.1"
            | "dotnetcore3.1"
            | "dotnet6"
            | "java8"
            | "ruby2.5"
            | "ruby2.7"
            | "go1.x"
    )
}

/// The interpreter for a runtime, resolved to a real executable (a pyenv-style shim would not
/// survive the cleared environment), or the reason there is none.
pub fn interpreter(runtime: &str) -> Result<PathBuf, String> {
    let family =
        family(runtime).ok_or_else(|| format!("RustStack cannot run the {runtime} runtime without containers"))?;
    let specific = format!("RUSTSTACK_LAMBDA_{}", runtime.to_ascii_uppercase().replace(['.', '-'], "_"));
    if let Some(path) = std::env::var_os(&specific) {
        return resolve(family, PathBuf::from(path))
            .ok_or_else(|| format!("{specific} does not name a working interpreter"));
    }
    static PYTHON: LazyLock<Result<PathBuf, String>> = LazyLock::new(|| default_interpreter(Family::Python));
    static NODE: LazyLock<Result<PathBuf, String>> = LazyLock::new(|| default_interpreter(Family::Node));
    match family {
        Family::Python => PYTHON.clone(),
        Family::Node => NODE.clone(),
        Family::Provided => Ok(PathBuf::new()),
    }
}

fn default_interpreter(family: Family) -> Result<PathBuf, String> {
    let (var, program) = match family {
        Family::Python => ("RUSTSTACK_LAMBDA_PYTHON", "python3"),
        Family::Node => ("RUSTSTACK_LAMBDA_NODE", "node"),
        Family::Provided => return Ok(PathBuf::new()),
    };
    let chosen = std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(program));
    resolve(family, chosen).ok_or_else(|| {
        format!("No {program} interpreter found for this runtime: install {program} or set {var} to its path")
    })
}

/// Asks the interpreter for its own executable path (one short run per interpreter).
fn resolve(family: Family, program: PathBuf) -> Option<PathBuf> {
    let (flag, code) = match family {
        Family::Python => ("-c", "import sys; print(sys.executable)"),
        Family::Node => ("-e", "console.log(process.execPath)"),
        Family::Provided => return None,
    };
    let out = std::process::Command::new(&program).args([flag, code]).output().ok()?;
    let path = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    (out.status.success() && path.is_absolute()).then_some(path)
}

/// Writes the shipped bootstrap files into the work directory once; returns their directory.
pub fn bootstrap_dir() -> Result<&'static Path, String> {
    static DIR: LazyLock<Result<PathBuf, String>> = LazyLock::new(|| {
        let dir = crate::packages::work_dir().join("runtime");
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("bootstrap.py"), PYTHON_BOOTSTRAP).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("bootstrap.js"), NODE_BOOTSTRAP).map_err(|e| e.to_string())?;
        Ok(dir)
    });
    DIR.as_deref().map_err(Clone::clone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtimes_map_to_families() {
        assert_eq!(family("python3.12"), Some(Family::Python));
        assert_eq!(family("nodejs20.x"), Some(Family::Node));
        assert_eq!(family("provided.al2023"), Some(Family::Provided));
        assert_eq!(family("java21"), None);
        assert!(deprecated("python3.7"));
        assert!(!deprecated("python3.12"));
        assert!(interpreter("java21").unwrap_err().contains("java21"));
    }
}
