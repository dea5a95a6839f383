//! Keeping the injection to this process: the app's children must not load
//! the agent (they would connect as if they were the app).

/// `LD_PRELOAD` without the entries for which `is_agent` holds. The loader
/// splits the list on spaces and colons. `None` when nothing is left.
pub fn preload_without(value: &str, is_agent: impl Fn(&str) -> bool) -> Option<String> {
    let kept: Vec<&str> = value
        .split([' ', ':'])
        .filter(|entry| !entry.is_empty() && !is_agent(entry))
        .collect();
    (!kept.is_empty()).then(|| kept.join(":"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_only_the_agent() {
        let is_agent = |e: &str| e == "/c/libipbp_agent.so";
        assert_eq!(preload_without("/c/libipbp_agent.so", is_agent), None);
        assert_eq!(
            preload_without("/a/x.so /c/libipbp_agent.so:/b/y.so", is_agent).as_deref(),
            Some("/a/x.so:/b/y.so")
        );
        assert_eq!(preload_without("::", is_agent), None);
    }
}
