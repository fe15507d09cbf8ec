//! The scope index: which rules can apply to a request, by endpoint
//! template (a trie over path segments), method and host, so that a request
//! evaluates only those.

use std::collections::HashMap;

use crate::ir::{Program, RulePhase};
use crate::path::{segments, TSeg};

#[derive(Debug, Default)]
struct Node {
    lit: HashMap<Box<[u8]>, usize>,
    /// `{param}` and `*`.
    any: Option<usize>,
    /// Rules whose template ends here.
    here: Vec<u32>,
    /// Rules whose template ends with `**` here.
    rest: Vec<u32>,
}

/// Rules by scope, per phase.
#[derive(Debug, Default)]
pub struct ScopeIndex {
    phases: [PhaseIndex; 2],
}

#[derive(Debug, Default)]
struct PhaseIndex {
    nodes: Vec<Node>,
    /// Rules without an endpoint.
    global: Vec<u32>,
}

fn phase_slot(p: RulePhase) -> usize {
    match p {
        RulePhase::Request => 0,
        RulePhase::Response => 1,
    }
}

impl ScopeIndex {
    pub fn build(prog: &Program) -> ScopeIndex {
        let mut ix = ScopeIndex::default();
        for p in &mut ix.phases {
            p.nodes.push(Node::default());
        }
        for (i, r) in prog.rules.iter().enumerate() {
            let pi = &mut ix.phases[phase_slot(r.phase)];
            if r.scope.endpoints.is_empty() {
                pi.global.push(i as u32);
                continue;
            }
            for t in &r.scope.endpoints {
                let mut n = 0usize;
                let mut rest = false;
                for seg in &t.segs {
                    n = match seg {
                        TSeg::Lit(l) => match pi.nodes[n].lit.get(l) {
                            Some(&c) => c,
                            None => {
                                pi.nodes.push(Node::default());
                                let c = pi.nodes.len() - 1;
                                pi.nodes[n].lit.insert(l.clone(), c);
                                c
                            }
                        },
                        TSeg::Param(_) | TSeg::Star => match pi.nodes[n].any {
                            Some(c) => c,
                            None => {
                                pi.nodes.push(Node::default());
                                let c = pi.nodes.len() - 1;
                                pi.nodes[n].any = Some(c);
                                c
                            }
                        },
                        TSeg::Rest => {
                            rest = true;
                            break;
                        }
                    };
                }
                if rest {
                    pi.nodes[n].rest.push(i as u32);
                } else {
                    pi.nodes[n].here.push(i as u32);
                }
            }
        }
        ix
    }

    /// Appends the rules of `phase` whose endpoint scope admits `path`
    /// (method and host are checked by the caller), sorted, without
    /// duplicates.
    pub fn candidates(&self, phase: RulePhase, path: &[u8], out: &mut Vec<u32>) {
        let pi = &self.phases[phase_slot(phase)];
        out.extend_from_slice(&pi.global);
        let segs: Vec<&[u8]> = segments(path).collect();
        let mut stack: Vec<(usize, usize)> = vec![(0, 0)];
        while let Some((n, depth)) = stack.pop() {
            let node = &pi.nodes[n];
            out.extend_from_slice(&node.rest);
            if depth == segs.len() {
                out.extend_from_slice(&node.here);
                continue;
            }
            if let Some(&c) = node.lit.get(segs[depth]) {
                stack.push((c, depth + 1));
            }
            if let Some(c) = node.any {
                stack.push((c, depth + 1));
            }
        }
        out.sort_unstable();
        out.dedup();
    }
}
