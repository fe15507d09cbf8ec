//! The vocabularies the learners share: business functions of endpoints,
//! formats of parameters, and the behaviour threats of clients.

use serde::{Deserialize, Serialize};

macro_rules! vocabulary {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $v),+ }

        impl $name {
            /// Every label, in a fixed order (the classifiers' output order).
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            /// The label as written in rules, the store and the console.
            pub fn name(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }

            /// The label written as [`name`](Self::name).
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($s => Some($name::$v),)+ _ => None }
            }

            /// Position in [`ALL`](Self::ALL).
            pub fn index(self) -> usize {
                Self::ALL.iter().position(|x| *x == self).unwrap_or(0)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

vocabulary! {
    /// What an endpoint does for the business.
    Function {
        Login = "login",
        Logout = "logout",
        Registration = "registration",
        PasswordReset = "password_reset",
        Search = "search",
        ProductView = "product_view",
        Cart = "cart",
        Checkout = "checkout",
        Profile = "profile",
        Admin = "admin",
        Upload = "upload",
        Download = "download",
        Static = "static",
        ApiRead = "api_read",
        ApiWrite = "api_write",
    }
}

vocabulary! {
    /// The format of a parameter's values.
    ParamFormat {
        Integer = "integer",
        Decimal = "decimal",
        Boolean = "boolean",
        Enumeration = "enumeration",
        Uuid = "uuid",
        Hex = "hex",
        Base64 = "base64",
        Jwt = "jwt",
        Email = "email",
        Url = "url",
        Ip = "ip",
        DateTime = "datetime",
        Phone = "phone",
        Card = "card",
        Name = "name",
        FreeText = "free_text",
        Json = "json",
        Xml = "xml",
        Html = "html",
        FilePath = "file_path",
    }
}

impl ParamFormat {
    /// Whether values of this format are personal data, masked in events.
    pub fn personal_data(self) -> bool {
        matches!(
            self,
            ParamFormat::Email | ParamFormat::Card | ParamFormat::Phone | ParamFormat::Name
        )
    }
}

vocabulary! {
    /// A behaviour the behaviour layer recognises as abuse.
    Threat {
        BruteForce = "brute_force",
        CredentialStuffing = "credential_stuffing",
        Enumeration = "enumeration",
        ForcedBrowsing = "forced_browsing",
        Scraping = "scraping",
        ApiAbuse = "api_abuse",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Function::ALL {
            assert_eq!(Function::parse(f.name()), Some(*f));
            assert_eq!(Function::ALL[f.index()], *f);
        }
        for f in ParamFormat::ALL {
            assert_eq!(ParamFormat::parse(f.name()), Some(*f));
        }
        assert!(ParamFormat::Card.personal_data());
        assert!(!ParamFormat::Integer.personal_data());
        assert_eq!(Threat::parse("scraping"), Some(Threat::Scraping));
    }
}
