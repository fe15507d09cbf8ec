//! Reading a rule set: the root file and its `include`s, through a
//! [`Loader`] the host provides. The parser itself never touches a file
//! system; a node reads rule packs from memory, the CLI from disk.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use crate::ast::{File, Item};
use crate::diag::{code, Diagnostic};
use crate::parser::parse_file;
use crate::span::{SourceMap, Span};

/// Includes nest at most this deep.
pub const MAX_INCLUDE_DEPTH: usize = 16;

/// Resolves and reads rule files.
pub trait Loader {
    /// Reads the file `name`, written in an `include` of the file `from`
    /// (`None` for the root). Returns the file's canonical name (two
    /// includes naming one file must give one name) and its text, or why
    /// it cannot be read.
    fn load(&mut self, from: Option<&str>, name: &str) -> Result<(String, String), String>;
}

/// A loader over files held in memory (tests, rule packs).
#[derive(Debug, Clone, Default)]
pub struct MemoryLoader {
    files: HashMap<String, String>,
}

impl MemoryLoader {
    pub fn new() -> MemoryLoader {
        MemoryLoader::default()
    }

    pub fn with(mut self, name: &str, text: &str) -> MemoryLoader {
        self.insert(name, text);
        self
    }

    pub fn insert(&mut self, name: &str, text: &str) {
        self.files.insert(name.to_string(), text.to_string());
    }
}

impl Loader for MemoryLoader {
    fn load(&mut self, _from: Option<&str>, name: &str) -> Result<(String, String), String> {
        self.files
            .get(name)
            .map(|t| (name.to_string(), t.clone()))
            .ok_or_else(|| "no such file".to_string())
    }
}

/// The items of a rule set with includes expanded in place, and the
/// sources they came from.
#[derive(Debug, Default)]
pub struct Loaded {
    pub sources: SourceMap,
    pub items: Vec<Item>,
    pub diags: Vec<Diagnostic>,
}

/// Reads `root` and everything it includes. A file included more than
/// once is read once; a file that includes itself (directly or not) is an
/// error.
pub fn load(root: &str, loader: &mut dyn Loader) -> Loaded {
    let mut st = Loaded::default();
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut stack: Vec<String> = Vec::new();
    match loader.load(None, root) {
        Ok((name, text)) => read(&mut st, loader, &mut seen, &mut stack, name, text),
        Err(why) => {
            let f = st.sources.add(root, "");
            st.diags.push(Diagnostic::error(
                code::INCLUDE_NOT_FOUND,
                Span::new(f, 0, 0),
                format!("cannot read `{root}`: {why}"),
            ));
        }
    }
    st
}

fn read(
    st: &mut Loaded,
    loader: &mut dyn Loader,
    seen: &mut HashMap<String, u32>,
    stack: &mut Vec<String>,
    name: String,
    text: String,
) {
    let id = st.sources.add(name.clone(), text);
    seen.insert(name.clone(), id);
    let (file, mut diags) = {
        let src = &st.sources.files[id as usize].text;
        parse_file(id, src)
    };
    st.diags.append(&mut diags);
    stack.push(name.clone());
    let File { items } = file;
    for item in items {
        let Item::Include(target) = item else {
            st.items.push(item);
            continue;
        };
        if stack.len() >= MAX_INCLUDE_DEPTH {
            st.diags.push(Diagnostic::error(
                code::INCLUDE_CYCLE,
                target.span,
                format!("includes nest deeper than {MAX_INCLUDE_DEPTH} files"),
            ));
            continue;
        }
        match loader.load(Some(&name), &target.value) {
            Ok((canon, text)) => {
                if stack.contains(&canon) {
                    st.diags.push(
                        Diagnostic::error(
                            code::INCLUDE_CYCLE,
                            target.span,
                            format!("`{canon}` includes itself"),
                        )
                        .with_help(format!("include chain: {} -> {canon}", stack.join(" -> "))),
                    );
                } else if !seen.contains_key(&canon) {
                    read(st, loader, seen, stack, canon, text);
                }
            }
            Err(why) => st.diags.push(Diagnostic::error(
                code::INCLUDE_NOT_FOUND,
                target.span,
                format!("cannot include `{}`: {why}", target.value),
            )),
        }
    }
    stack.pop();
}

/// Reads rule files from disk; an include is relative to the including
/// file. Names are folded lexically (`a/../b` is `b`) and every file read
/// is remembered.
#[derive(Debug, Default)]
pub struct FsLoader {
    pub read: Vec<(PathBuf, String)>,
}

impl Loader for FsLoader {
    fn load(&mut self, from: Option<&str>, name: &str) -> Result<(String, String), String> {
        let base = from
            .and_then(|f| Path::new(f).parent())
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let path = fold(&base.join(name));
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        if !self.read.iter().any(|(p, _)| p == &path) {
            self.read.push((path.clone(), text.clone()));
        }
        Ok((path.to_string_lossy().into_owned(), text))
    }
}

/// `.` and `..` folded without asking the file system.
pub fn fold(p: &Path) -> PathBuf {
    let mut parts: Vec<Component<'_>> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match parts.last() {
                Some(Component::Normal(_)) => {
                    parts.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => parts.push(c),
            },
            other => parts.push(other),
        }
    }
    parts.iter().collect()
}
