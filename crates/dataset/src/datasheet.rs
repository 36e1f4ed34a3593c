//! The datasheet (`datasheet.md`, `datasheet.json`): the questions of Gebru et al.,
//! "Datasheets for Datasets" (Communications of the ACM 64(12), 2021), by section —
//! motivation, composition, collection process, preprocessing/cleaning/labelling, uses,
//! distribution, maintenance.
//!
//! custos answers what it knows from the run (counts, time span, labelling rule, schema,
//! software); what it cannot know comes from `--datasheet info.toml` ([`Info`]); a question
//! neither answers says "not stated".

use crate::error::DatasetError;
use crate::manifest::Manifest;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The datasheet files' names.
pub const DATASHEET_MD: &str = "datasheet.md";
/// The datasheet files' names.
pub const DATASHEET_JSON: &str = "datasheet.json";

/// What the answer of a question that no one answered says.
pub const NOT_STATED: &str = "not stated";

/// One section of `info.toml`: question key (with where it is in the file) → answer; keys
/// are checked against [`QUESTIONS`] when the file is read.
type Section = BTreeMap<toml::Spanned<String>, String>;

/// `--datasheet info.toml`: answers custos cannot know. Every key is optional; an unknown
/// section or key is an error naming it (and its line).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Info {
    /// The dataset's title (the datasheet's heading).
    pub title: Option<String>,
    /// Motivation answers.
    #[serde(default)]
    pub motivation: Section,
    /// Composition answers.
    #[serde(default)]
    pub composition: Section,
    /// Collection-process answers.
    #[serde(default)]
    pub collection: Section,
    /// Preprocessing, cleaning and labelling answers.
    #[serde(default)]
    pub preprocessing: Section,
    /// Uses answers.
    #[serde(default)]
    pub uses: Section,
    /// Distribution answers.
    #[serde(default)]
    pub distribution: Section,
    /// Maintenance answers.
    #[serde(default)]
    pub maintenance: Section,
}

/// Who answers a question: custos from the run, the info file, or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    /// custos, from the run.
    Custos,
    /// The info file.
    Stated,
    /// custos, with what the info file adds.
    Both,
}

/// Every question: section, key (in `info.toml`), who answers, the question.
#[rustfmt::skip]
pub const QUESTIONS: [(&str, &str, By, &str); 42] = [
    ("motivation", "purpose", By::Stated, "For what purpose was the dataset created? Was there a specific task in mind?"),
    ("motivation", "creators", By::Stated, "Who created the dataset (e.g., which team, research group) and on behalf of which entity?"),
    ("motivation", "funding", By::Stated, "Who funded the creation of the dataset?"),
    ("motivation", "comments", By::Stated, "Any other comments?"),
    ("composition", "instances", By::Custos, "What do the instances that comprise the dataset represent?"),
    ("composition", "count", By::Custos, "How many instances are there in total (of each type, if appropriate)?"),
    ("composition", "sampling", By::Both, "Does the dataset contain all possible instances or is it a sample of instances from a larger set?"),
    ("composition", "data", By::Custos, "What data does each instance consist of?"),
    ("composition", "label", By::Custos, "Is there a label or target associated with each instance?"),
    ("composition", "missing", By::Custos, "Is any information missing from individual instances?"),
    ("composition", "relationships", By::Custos, "Are relationships between individual instances made explicit?"),
    ("composition", "splits", By::Stated, "Are there recommended data splits (e.g., training, development/validation, testing)?"),
    ("composition", "noise", By::Both, "Are there any errors, sources of noise, or redundancies in the dataset?"),
    ("composition", "self_contained", By::Custos, "Is the dataset self-contained, or does it link to or otherwise rely on external resources?"),
    ("composition", "confidential", By::Both, "Does the dataset contain data that might be considered confidential?"),
    ("composition", "people", By::Stated, "Does the dataset identify any subpopulations, or is it possible to identify individuals, directly or indirectly?"),
    ("composition", "comments", By::Stated, "Any other comments?"),
    ("collection", "acquisition", By::Both, "How was the data associated with each instance acquired?"),
    ("collection", "mechanisms", By::Stated, "What mechanisms or procedures were used to collect the data (e.g., hardware, software, network taps)?"),
    ("collection", "collectors", By::Stated, "Who was involved in the data collection process and how were they compensated?"),
    ("collection", "timeframe", By::Custos, "Over what timeframe was the data collected?"),
    ("collection", "ethical_review", By::Stated, "Were any ethical review processes conducted?"),
    ("collection", "consent", By::Stated, "Were the individuals in question notified about the data collection, and did they consent to it?"),
    ("collection", "comments", By::Stated, "Any other comments?"),
    ("preprocessing", "preprocessing", By::Custos, "Was any preprocessing/cleaning/labeling of the data done?"),
    ("preprocessing", "raw_data", By::Both, "Was the \"raw\" data saved in addition to the preprocessed/cleaned/labeled data?"),
    ("preprocessing", "software", By::Custos, "Is the software that was used to preprocess/clean/label the data available?"),
    ("preprocessing", "comments", By::Stated, "Any other comments?"),
    ("uses", "tasks", By::Stated, "Has the dataset been used for any tasks already?"),
    ("uses", "repository", By::Stated, "Is there a repository that links to any or all papers or systems that use the dataset?"),
    ("uses", "other_tasks", By::Stated, "What (other) tasks could the dataset be used for?"),
    ("uses", "impact", By::Both, "Is there anything about the composition of the dataset or the way it was collected and preprocessed/cleaned/labeled that might impact future uses?"),
    ("uses", "not_for", By::Stated, "Are there tasks for which the dataset should not be used?"),
    ("distribution", "third_parties", By::Stated, "Will the dataset be distributed to third parties outside of the entity on behalf of which the dataset was created?"),
    ("distribution", "how", By::Stated, "How will the dataset be distributed (e.g., tarball on website, API, GitHub)?"),
    ("distribution", "license", By::Stated, "Will the dataset be distributed under a copyright or other intellectual property license, and/or under applicable terms of use?"),
    ("distribution", "restrictions", By::Stated, "Have any third parties imposed IP-based or other restrictions on the data, or do export controls or other regulatory restrictions apply?"),
    ("maintenance", "maintainer", By::Stated, "Who will be supporting/hosting/maintaining the dataset?"),
    ("maintenance", "contact", By::Stated, "How can the owner/curator/manager of the dataset be contacted?"),
    ("maintenance", "erratum", By::Stated, "Is there an erratum?"),
    ("maintenance", "updates", By::Stated, "Will the dataset be updated (e.g., to correct labeling errors, add new instances, delete instances)?"),
    ("maintenance", "contributions", By::Stated, "If others want to extend/augment/build on/contribute to the dataset, is there a mechanism for them to do so?"),
];

/// Section keys and headings, in order.
pub const SECTIONS: [(&str, &str); 7] = [
    ("motivation", "Motivation"),
    ("composition", "Composition"),
    ("collection", "Collection process"),
    ("preprocessing", "Preprocessing, cleaning and labelling"),
    ("uses", "Uses"),
    ("distribution", "Distribution"),
    ("maintenance", "Maintenance"),
];

impl Info {
    /// Reads `path`.
    ///
    /// # Errors
    /// The file cannot be read, is not TOML, or has an unknown section or key, or a key
    /// custos answers alone ([`DatasetError::Info`] says which and where).
    pub fn load(path: &Path) -> Result<Info, DatasetError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| DatasetError::io(format!("cannot read {}", path.display()), e))?;
        Info::parse(&text).map_err(|message| DatasetError::Info {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses the text of an info file.
    ///
    /// # Errors
    /// As [`Info::load`], as a message.
    pub fn parse(text: &str) -> Result<Info, String> {
        let info: Info = toml::from_str(text).map_err(|e| e.to_string().trim().to_string())?;
        for (section, answers) in info.sections() {
            for spanned in answers.keys() {
                let key = spanned.get_ref().as_str();
                let line = text
                    .get(..spanned.span().start)
                    .map_or(0, |t| t.matches('\n').count() + 1);
                let at = format!("line {line}: [{section}] {key}");
                match QUESTIONS.iter().find(|q| q.0 == section && q.1 == key) {
                    Some((_, _, By::Custos, _)) => {
                        return Err(format!("{at}: custos answers this question from the run"))
                    }
                    Some(_) => {}
                    None => {
                        let keys: Vec<&str> = QUESTIONS
                            .iter()
                            .filter(|q| q.0 == section && q.2 != By::Custos)
                            .map(|q| q.1)
                            .collect();
                        return Err(format!("{at}: unknown key (known: {})", keys.join(", ")));
                    }
                }
            }
        }
        Ok(info)
    }

    fn sections(&self) -> [(&'static str, &Section); 7] {
        [
            ("motivation", &self.motivation),
            ("composition", &self.composition),
            ("collection", &self.collection),
            ("preprocessing", &self.preprocessing),
            ("uses", &self.uses),
            ("distribution", &self.distribution),
            ("maintenance", &self.maintenance),
        ]
    }

    fn stated(&self, section: &str, key: &str) -> Option<&str> {
        let (_, answers) = self.sections().into_iter().find(|(s, _)| *s == section)?;
        answers
            .iter()
            .find(|(k, _)| k.get_ref() == key)
            .map(|(_, a)| a.as_str())
            .filter(|a| !a.trim().is_empty())
    }
}

/// One answered question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Answer {
    /// The key (in `info.toml`).
    pub key: &'static str,
    /// The question.
    pub question: &'static str,
    /// The answer, or [`NOT_STATED`].
    pub answer: String,
    /// `custos`, `stated`, `custos and stated` or `not stated`.
    pub source: &'static str,
}

/// One section of the datasheet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SheetSection {
    /// Section key.
    pub key: &'static str,
    /// Heading.
    pub title: &'static str,
    /// Its questions, in order.
    pub answers: Vec<Answer>,
}

/// The datasheet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Datasheet {
    /// Always `custos datasheet`.
    pub format: &'static str,
    /// Title.
    pub title: String,
    /// SHA-256 of the `manifest.json` it describes.
    pub manifest_sha256: String,
    /// Sections, in Gebru et al.'s order.
    pub sections: Vec<SheetSection>,
}

impl Datasheet {
    /// The datasheet of `manifest` (whose file has SHA-256 `manifest_sha256`), with `info`.
    pub fn new(manifest: &Manifest, manifest_sha256: &str, info: &Info) -> Datasheet {
        let sections = SECTIONS
            .iter()
            .map(|&(key, title)| SheetSection {
                key,
                title,
                answers: QUESTIONS
                    .iter()
                    .filter(|q| q.0 == key)
                    .map(|&(section, k, _, question)| {
                        let computed = crate::answers::computed(section, k, manifest);
                        let (answer, source) = match (computed, info.stated(section, k)) {
                            (Some(c), Some(s)) => (format!("{c}\n\n{s}"), "custos and stated"),
                            (Some(c), None) => (c, "custos"),
                            (None, Some(s)) => (s.to_string(), "stated"),
                            (None, None) => (NOT_STATED.to_string(), NOT_STATED),
                        };
                        Answer {
                            key: k,
                            question,
                            answer,
                            source,
                        }
                    })
                    .collect(),
            })
            .collect();
        Datasheet {
            format: "custos datasheet",
            title: info
                .title
                .clone()
                .unwrap_or_else(|| "custos dataset".into()),
            manifest_sha256: manifest_sha256.to_string(),
            sections,
        }
    }

    /// `datasheet.md`.
    pub fn to_markdown(&self) -> String {
        let mut md = format!(
            "# Datasheet: {}\n\nAfter Gebru et al., \"Datasheets for Datasets\" (CACM 64(12), \
             2021). Generated by custos {} for the dataset whose `manifest.json` has SHA-256 \
             `{}`. Answers come from the run (custos), from the datasheet information file \
             (stated), or are marked \"{NOT_STATED}\".\n",
            self.title,
            env!("CARGO_PKG_VERSION"),
            self.manifest_sha256
        );
        for s in &self.sections {
            md.push_str(&format!("\n## {}\n", s.title));
            for a in &s.answers {
                md.push_str(&format!("\n**{}**\n\n{}\n", a.question, a.answer));
                if a.source != NOT_STATED {
                    md.push_str(&format!("\n_({})_\n", a.source));
                }
            }
        }
        md
    }

    /// `datasheet.json`: pretty JSON and a final newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).unwrap_or_default();
        v.push(b'\n');
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stated_answers() {
        let info = Info::parse(
            "title = \"lab\"\n[motivation]\npurpose = \"train\"\n[distribution]\nlicense = \"CC-BY-4.0\"\n",
        )
        .unwrap();
        assert_eq!(info.stated("motivation", "purpose"), Some("train"));
        assert_eq!(info.stated("distribution", "license"), Some("CC-BY-4.0"));
        assert_eq!(info.stated("uses", "tasks"), None);
    }

    #[test]
    fn rejects_an_unknown_section_naming_its_line() {
        let err = Info::parse("title = \"x\"\n\n[motivaton]\npurpose = \"y\"\n").unwrap_err();
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("motivaton"), "{err}");
    }

    #[test]
    fn rejects_an_unknown_key() {
        let err = Info::parse("[uses]\ntasks = \"a\"\n\ntask = \"y\"\n").unwrap_err();
        assert!(
            err.starts_with("line 4: [uses] task: unknown key (known: tasks,"),
            "{err}"
        );
    }

    #[test]
    fn rejects_a_key_custos_answers() {
        let err = Info::parse("[composition]\ncount = \"12\"\n").unwrap_err();
        assert_eq!(
            err,
            "line 2: [composition] count: custos answers this question from the run"
        );
    }

    #[test]
    fn every_question_has_a_known_section() {
        for q in QUESTIONS {
            assert!(SECTIONS.iter().any(|s| s.0 == q.0), "{q:?}");
        }
    }
}
