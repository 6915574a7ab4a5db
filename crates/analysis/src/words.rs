//! The one number format of the words the statistics still make: the claim parts'
//! reasons ([`crate::claims`]). The rest of the English is the report's
//! (`cnnvar-report`).

/// `p = 0.042`, `p < 0.001`.
pub(crate) fn p_words(p: f64) -> String {
    if p < 0.001 { "p < 0.001".to_string() } else { format!("p = {p:.3}") }
}
