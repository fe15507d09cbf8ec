//! File names inside a pack, and the [`Loader`] that resolves `include`s
//! among a pack's files (never outside it).

use crate::loader::Loader;

use super::Pack;

/// The name of the synthetic root that includes every entry of a pack
/// with several entries (no file name can take it: `<` is refused).
pub const ENTRIES_ROOT: &str = "<entries>";

/// Checks a file name of a pack: relative, `/`-separated segments, none
/// empty, `.` or `..`; no control characters, `"`, `\`, `<` or `>`; at
/// most 255 bytes.
pub fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name.len() > 255 {
        return Err("1 to 255 bytes");
    }
    if name
        .chars()
        .any(|c| c.is_control() || matches!(c, '"' | '\\' | '<' | '>'))
    {
        return Err("no control characters, quotes, backslashes or angle brackets");
    }
    if name
        .split('/')
        .any(|seg| seg.is_empty() || seg == "." || seg == "..")
    {
        return Err("relative, with no empty, `.` or `..` segment");
    }
    Ok(())
}

/// Resolves `name`, written in an include of the pack file `from` (its
/// directory is the base; `None`: the pack's root), to a pack file name:
/// `.` and `..` segments are folded. `None` when the name is absolute or
/// climbs out of the pack.
pub fn normalize_name(from: Option<&str>, name: &str) -> Option<String> {
    if name.starts_with('/') {
        return None;
    }
    let mut segs: Vec<&str> = match from.and_then(|f| f.rsplit_once('/')) {
        Some((dir, _)) => dir.split('/').collect(),
        None => Vec::new(),
    };
    for seg in name.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segs.pop()?;
            }
            s => segs.push(s),
        }
    }
    Some(segs.join("/"))
}

/// A [`Loader`] over the files of a pack. The root is an entry, or
/// [`ENTRIES_ROOT`]: a file that includes every entry in order.
#[derive(Debug)]
pub struct PackLoader<'a> {
    pack: &'a Pack,
}

impl<'a> PackLoader<'a> {
    pub fn new(pack: &'a Pack) -> PackLoader<'a> {
        PackLoader { pack }
    }
}

impl Loader for PackLoader<'_> {
    fn load(&mut self, from: Option<&str>, name: &str) -> Result<(String, String), String> {
        if from.is_none() && name == ENTRIES_ROOT {
            let text: String = self
                .pack
                .manifest
                .entries
                .iter()
                .map(|e| format!("include \"{e}\"\n"))
                .collect();
            return Ok((name.to_string(), text));
        }
        let from = from.filter(|f| *f != ENTRIES_ROOT);
        let canon = normalize_name(from, name)
            .ok_or_else(|| "an include must stay inside the pack".to_string())?;
        match self.pack.file(&canon) {
            Some(text) => Ok((canon, text.to_string())),
            None => Err(format!("the pack has no file `{canon}`")),
        }
    }
}
