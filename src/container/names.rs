//! Container names: Docker's rule for valid names and Docker-style random ones (`cool_clarke`).

use rand::seq::IndexedRandom;

const LEFT: &[&str] = &[
    "admiring", "adoring", "affectionate", "amazing", "awesome", "blissful", "bold", "brave", "charming", "clever",
    "cool", "compassionate", "competent", "confident", "dazzling", "determined", "eager", "ecstatic", "elastic",
    "elegant", "eloquent", "epic", "exciting", "fervent", "festive", "flamboyant", "focused", "friendly", "gallant",
    "gifted", "gracious", "happy", "hardcore", "heuristic", "hopeful", "hungry", "infallible", "inspiring", "jolly",
    "jovial", "keen", "kind", "laughing", "loving", "lucid", "magical", "modest", "musing", "mystifying", "naughty",
    "nervous", "nice", "nifty", "nostalgic", "objective", "optimistic", "peaceful", "pedantic", "pensive", "practical",
    "priceless", "quirky", "quizzical", "relaxed", "reverent", "romantic", "serene", "sharp", "silly", "sleepy",
    "stoic", "strange", "stupefied", "suspicious", "sweet", "tender", "thirsty", "trusting", "unruffled", "upbeat",
    "vibrant", "vigilant", "vigorous", "wizardly", "wonderful", "xenodochial", "youthful", "zealous", "zen",
];

const RIGHT: &[&str] = &[
    "agnesi", "albattani", "allen", "archimedes", "ardinghelli", "babbage", "banach", "bardeen", "bartik", "bassi",
    "bell", "bhabha", "blackwell", "bohr", "booth", "borg", "bose", "brahmagupta", "brown", "carson", "cerf",
    "chandrasekhar", "clarke", "colden", "curie", "darwin", "davinci", "diffie", "dijkstra", "einstein", "elion",
    "engelbart", "euclid", "euler", "fermat", "fermi", "feynman", "franklin", "galileo", "gauss", "goldberg",
    "goodall", "hamilton", "hawking", "heisenberg", "hertz", "hodgkin", "hopper", "hypatia", "johnson", "kalam",
    "keller", "kepler", "knuth", "lamarr", "lamport", "leakey", "lovelace", "lumiere", "mayer", "mcclintock",
    "meitner", "mendel", "mirzakhani", "morse", "napier", "newton", "nobel", "noether", "pascal", "pasteur", "payne",
    "perlman", "pike", "poincare", "ptolemy", "raman", "ritchie", "rosalind", "sammet", "shannon", "shockley",
    "sinoussi", "stallman", "swanson", "tesla", "thompson", "torvalds", "turing", "varahamihira", "wescoff", "wiles",
    "williams", "wilson", "wing", "wozniak", "wright", "yalow", "yonath",
];

/// A random `adjective_surname`.
pub fn random_name() -> String {
    let mut rng = rand::rng();
    format!("{}_{}", LEFT.choose(&mut rng).unwrap(), RIGHT.choose(&mut rng).unwrap())
}

/// Docker's rule: `[a-zA-Z0-9][a-zA-Z0-9_.-]+` (a leading `/` is allowed and ignored).
pub fn valid_name(name: &str) -> bool {
    let n = name.strip_prefix('/').unwrap_or(name);
    let b = n.as_bytes();
    b.len() >= 2
        && b[0].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("c1") && valid_name("/web") && valid_name("my_app.v2-x"));
        for bad in ["", "a", "bad name", "-x", "_x", "x/y", "é1"] {
            assert!(!valid_name(bad), "{bad}");
        }
        let r = random_name();
        assert!(valid_name(&r) && r.contains('_'));
    }
}
