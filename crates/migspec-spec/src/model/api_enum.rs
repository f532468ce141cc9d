//! Enumerations of API values that carry their documented meaning.
//!
//! One declaration gives the Rust enum, its wire form (serde), and a JSON Schema with `enum`,
//! `enumDescriptions` and `markdownEnumDescriptions`, which yaml-language-server shows on hover
//! and completion. The validator reads the same descriptions back out of the schema to list
//! the valid values with their meanings.

/// What every API enumeration offers beyond serde and schemars.
pub trait ApiEnum: Sized + Copy + 'static {
    /// Every variant, in documentation order.
    const ALL: &'static [Self];
    /// The value as the API spells it.
    fn wire(self) -> serde_json::Value;
    /// What the value means, from the API documentation.
    fn description(self) -> &'static str;
}

/// Declares an API enumeration; see the module documentation.
///
/// ```
/// migspec_spec::api_enum! {
///     /// Whether to start at once.
///     pub enum Mode: str {
///         /// Now.
///         Now = "now" => "start at once",
///         Later = "later" => "start at a given time",
///     }
/// }
/// use migspec_spec::model::ApiEnum;
/// assert_eq!(Mode::Later.wire(), serde_json::json!("later"));
/// assert_eq!(serde_json::from_value::<Mode>(serde_json::json!("now")).unwrap(), Mode::Now);
/// ```
#[macro_export]
macro_rules! api_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : str {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal => $description:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( #[doc = $description] $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// The value as the API spells it.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self { $( Self::$variant => $wire, )+ }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, formatter: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                formatter.write_str(self.as_str())
            }
        }

        impl $crate::model::ApiEnum for $name {
            const ALL: &'static [Self] = &[ $( Self::$variant, )+ ];
            fn wire(self) -> ::serde_json::Value {
                ::serde_json::Value::String(self.as_str().to_owned())
            }
            fn description(self) -> &'static str {
                match self { $( Self::$variant => $description, )+ }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(deserializer)?;
                match text.as_ref() {
                    $( $wire => Ok(Self::$variant), )+
                    other => Err(<D::Error as ::serde::de::Error>::unknown_variant(other, &[ $( $wire ),+ ])),
                }
            }
        }

        impl ::schemars::JsonSchema for $name {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(generator: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                $crate::model::api_enum::enum_schema::<Self>(generator, "string")
            }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : int {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal => $description:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( #[doc = $description] $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// The value as the API sends it.
            #[must_use]
            pub const fn as_i64(self) -> i64 {
                match self { $( Self::$variant => $wire, )+ }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, formatter: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(formatter, "{}", self.as_i64())
            }
        }

        impl $crate::model::ApiEnum for $name {
            const ALL: &'static [Self] = &[ $( Self::$variant, )+ ];
            fn wire(self) -> ::serde_json::Value {
                ::serde_json::Value::from(self.as_i64())
            }
            fn description(self) -> &'static str {
                match self { $( Self::$variant => $description, )+ }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_i64(self.as_i64())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <i64 as ::serde::Deserialize>::deserialize(deserializer)?;
                match value {
                    $( $wire => Ok(Self::$variant), )+
                    other => Err(<D::Error as ::serde::de::Error>::invalid_value(
                        ::serde::de::Unexpected::Signed(other),
                        &concat!("one of", $( " ", stringify!($wire) ),+),
                    )),
                }
            }
        }

        impl ::schemars::JsonSchema for $name {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(generator: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                $crate::model::api_enum::enum_schema::<Self>(generator, "integer")
            }
        }
    };
}

/// Builds the schema of an [`ApiEnum`] (used by [`api_enum!`]).
#[doc(hidden)]
pub fn enum_schema<E: ApiEnum>(
    _generator: &mut schemars::SchemaGenerator,
    kind: &str,
) -> schemars::Schema {
    let values: Vec<serde_json::Value> = E::ALL.iter().map(|value| value.wire()).collect();
    let descriptions: Vec<String> = E::ALL
        .iter()
        .map(|value| value.description().to_owned())
        .collect();
    // yaml-language-server prefixes each entry with the value itself ("`cvm`: …"), so the
    // entries hold the meaning only.
    let markdown: Vec<String> = E::ALL
        .iter()
        .map(|value| value.description().to_owned())
        .collect();
    let summary = E::ALL
        .iter()
        .map(|value| format!("{} = {}", display_wire(&value.wire()), value.description()))
        .collect::<Vec<_>>()
        .join("; ");
    schemars::json_schema!({
        "type": kind,
        "enum": values,
        "description": summary,
        "enumDescriptions": descriptions,
        "markdownEnumDescriptions": markdown,
    })
}

fn display_wire(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
#[expect(unreachable_pub, reason = "the macro declares its methods `pub`")]
mod tests {
    use super::ApiEnum;

    crate::api_enum! {
        /// A test enum.
        pub enum Level: int {
            Low = 1 => "low",
            High = 2 => "high",
        }
    }

    #[test]
    fn integer_enums_round_trip_and_reject_unknown_values() {
        assert_eq!(
            serde_json::to_value(Level::High).unwrap(),
            serde_json::json!(2)
        );
        assert_eq!(
            serde_json::from_value::<Level>(serde_json::json!(1)).unwrap(),
            Level::Low
        );
        let error = serde_json::from_value::<Level>(serde_json::json!(3)).unwrap_err();
        assert!(error.to_string().contains("one of 1 2"), "{error}");
        assert_eq!(Level::ALL.len(), 2);
    }

    #[test]
    fn schema_lists_values_with_meanings() {
        let schema = schemars::schema_for!(Level);
        let json = schema.as_value();
        assert_eq!(json["enum"], serde_json::json!([1, 2]));
        assert_eq!(json["enumDescriptions"], serde_json::json!(["low", "high"]));
        // Editors show "`1`: low"; the value must not be repeated in the text.
        assert_eq!(
            json["markdownEnumDescriptions"],
            serde_json::json!(["low", "high"])
        );
        assert_eq!(json["description"], serde_json::json!("1 = low; 2 = high"));
    }
}
