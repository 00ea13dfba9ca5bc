//! Test-only prompts and resources for the official MCP conformance suite,
//! next to its test tools (see [`crate::conformance`]): they exist only with
//! `--enable-conformance-tools`, answer from memory and never call HCP
//! Terraform. Names and contents follow the suite's scenarios:
//!
//! | scenario                        | fixture                                      |
//! |---------------------------------|----------------------------------------------|
//! | prompts-get-simple              | prompt `test_simple_prompt`                  |
//! | prompts-get-with-args           | prompt `test_prompt_with_arguments` (arg1, arg2) |
//! | prompts-get-embedded-resource   | prompt `test_prompt_with_embedded_resource`  |
//! | prompts-get-with-image          | prompt `test_prompt_with_image`              |
//! | completion-complete             | completion of `test_prompt_with_arguments`   |
//! | resources-read-text             | `test://static-text`                         |
//! | resources-read-binary           | `test://static-binary`                       |
//! | resources-templates-read        | `test://template/{id}/data`                  |

use rmcp::model::{
    CompleteRequestParams, CompleteResult, CompletionInfo, ContentBlock, GetPromptResult, JsonObject, Prompt, PromptArgument,
    PromptMessage, Resource, ResourceContents, ResourceTemplate, Role,
};
use serde_json::Value;

const SIMPLE: &str = "test_simple_prompt";
const WITH_ARGUMENTS: &str = "test_prompt_with_arguments";
const EMBEDDED: &str = "test_prompt_with_embedded_resource";
const IMAGE: &str = "test_prompt_with_image";
const STATIC_TEXT: &str = "test://static-text";
const STATIC_BINARY: &str = "test://static-binary";
const TEMPLATE: &str = "test://template/{id}/data";
/// A 1x1 red PNG.
const PNG_1X1: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";

pub fn prompts() -> Vec<Prompt> {
    let arg = |name: &str, required: bool| {
        PromptArgument::new(name).with_description(format!("Conformance test argument {name}.")).with_required(required)
    };
    vec![
        Prompt::new(SIMPLE, Some("Conformance test prompt: a simple message."), None),
        Prompt::new(
            WITH_ARGUMENTS,
            Some("Conformance test prompt: substitutes arg1 and arg2."),
            Some(vec![arg("arg1", true), arg("arg2", true)]),
        ),
        Prompt::new(EMBEDDED, Some("Conformance test prompt: embeds a resource."), Some(vec![arg("resourceUri", true)])),
        Prompt::new(IMAGE, Some("Conformance test prompt: carries an image."), None),
    ]
}

fn text_arg<'a>(arguments: Option<&'a JsonObject>, name: &str) -> &'a str {
    arguments.and_then(|a| a.get(name)).and_then(Value::as_str).unwrap_or("")
}

/// A conformance prompt, or `None` when `name` is not one.
pub fn get_prompt(name: &str, arguments: Option<&JsonObject>) -> Option<GetPromptResult> {
    let messages = match name {
        SIMPLE => vec![PromptMessage::new_text(Role::User, "This is a simple prompt for testing.")],
        WITH_ARGUMENTS => vec![PromptMessage::new_text(
            Role::User,
            format!("Prompt with arguments: arg1='{}', arg2='{}'", text_arg(arguments, "arg1"), text_arg(arguments, "arg2")),
        )],
        EMBEDDED => {
            let uri = text_arg(arguments, "resourceUri");
            vec![
                PromptMessage::new(
                    Role::User,
                    ContentBlock::resource(ResourceContents::text("Embedded resource content for testing.", uri)),
                ),
                PromptMessage::new_text(Role::User, "Please process the embedded resource above."),
            ]
        }
        IMAGE => vec![
            PromptMessage::new(Role::User, ContentBlock::image(PNG_1X1, "image/png")),
            PromptMessage::new_text(Role::User, "Please analyze the image above."),
        ],
        _ => return None,
    };
    Some(GetPromptResult::new(messages))
}

pub fn complete(request: &CompleteRequestParams) -> Option<CompleteResult> {
    (request.r#ref.as_prompt_name() == Some(WITH_ARGUMENTS)).then(|| {
        let values =
            ["paris", "park", "party"].iter().filter(|v| v.starts_with(&request.argument.value)).map(|v| (*v).to_owned()).collect();
        CompleteResult::new(CompletionInfo::with_all_values(values).unwrap_or_default())
    })
}

pub fn resources() -> Vec<Resource> {
    vec![
        Resource::new(STATIC_TEXT, "static-text").with_description("Conformance test text resource.").with_mime_type("text/plain"),
        Resource::new(STATIC_BINARY, "static-binary").with_description("Conformance test binary resource.").with_mime_type("image/png"),
    ]
}

pub fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new(TEMPLATE, "template")
            .with_description("Conformance test resource template.")
            .with_mime_type("application/json"),
    ]
}

/// A conformance resource, or `None` when `uri` is not one.
pub fn read(uri: &str) -> Option<ResourceContents> {
    match uri {
        STATIC_TEXT => Some(ResourceContents::text("This is the content of the static text resource.", uri)),
        STATIC_BINARY => Some(ResourceContents::BlobResourceContents {
            uri: uri.to_owned(),
            mime_type: Some("image/png".to_owned()),
            blob: PNG_1X1.to_owned(),
            meta: None,
        }),
        _ => {
            let id = uri.strip_prefix("test://template/")?.strip_suffix("/data")?;
            (!id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')).then(|| {
                ResourceContents::TextResourceContents {
                    uri: uri.to_owned(),
                    mime_type: Some("application/json".to_owned()),
                    text: serde_json::json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")}).to_string(),
                    meta: None,
                }
            })
        }
    }
}
