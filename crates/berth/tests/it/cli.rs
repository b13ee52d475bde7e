//! The command-line client: argument parsing and table rendering without a server, then the
//! real `berth` binary driving the real server through a whole tenancy setup.
//!
//! The CLI's source is compiled into this test binary (it refers to its parts only through
//! `self`/`super` for this reason), so parsing and rendering are tested as functions, without
//! a process per case.

use std::path::Path;
use std::process::{Command, Stdio};

use berth_client::{Client, Permission, Role};
use clap::Parser;
use serde_json::{json, Value};

use crate::support::{BinaryServer, ADMIN_PASSWORD};

#[allow(dead_code)]
#[path = "../../src/cli/mod.rs"]
pub(crate) mod app;

use app::output::{cell, col, render_record, render_table};

/// `berth` with only the client commands, as `main` sees them.
#[derive(Parser)]
struct Berth {
    #[command(subcommand)]
    command: app::Command,
}

pub(crate) fn parse(args: &[&str]) -> Result<app::Command, clap::Error> {
    Berth::try_parse_from(std::iter::once("berth").chain(args.iter().copied())).map(|b| b.command)
}

fn parsed(args: &[&str]) -> app::Command {
    parse(args).unwrap_or_else(|e| panic!("berth {}: {e}", args.join(" ")))
}

// --- Parsing ---------------------------------------------------------------------------------

#[test]
fn global_options_come_after_the_command_and_have_defaults() {
    let app::Command::Whoami(c) = parsed(&["whoami"]) else {
        panic!("not whoami")
    };
    assert_eq!(c.globals.output, app::Output::Table);
    assert_eq!(c.globals.server, None);

    let app::Command::Workspace(g) = parsed(&[
        "workspace",
        "list",
        "--server",
        "http://berth.test",
        "--token",
        "t0ken",
        "-o",
        "json",
    ]) else {
        panic!("not workspace")
    };
    assert_eq!(g.globals.server.as_deref(), Some("http://berth.test"));
    assert_eq!(g.globals.token().map(|t| t.expose()), Some("t0ken"));
    assert!(
        !format!("{g:?}").contains("t0ken"),
        "a parsed token shows in Debug output"
    );
    assert_eq!(g.globals.output, app::Output::Json);
    assert!(matches!(g.command, app::workspaces::WorkspaceCommand::List));

    // `serve` keeps only its own options, so the client's are not accepted before a command.
    assert!(parse(&["--server", "http://berth.test", "whoami"]).is_err());
    assert!(parse(&["whoami", "--output", "yaml"]).is_err());
}

#[test]
fn login_takes_a_url_and_a_username() {
    let app::Command::Login(c) = parsed(&[
        "login",
        "http://berth.test",
        "--username",
        "admin",
        "--password-stdin",
    ]) else {
        panic!("not login")
    };
    assert_eq!(c.args.url.as_deref(), Some("http://berth.test"));
    assert_eq!(c.args.username, "admin");
    assert!(c.args.password_stdin);
    assert!(
        parse(&["login", "http://berth.test"]).is_err(),
        "username is required"
    );
}

#[test]
fn user_commands_never_take_a_password_as_an_argument() {
    let app::Command::User(g) = parsed(&[
        "user",
        "create",
        "alice",
        "--password-stdin",
        "--email",
        "alice@example.com",
        "--admin",
    ]) else {
        panic!("not user")
    };
    let app::users::UserCommand::Create {
        name, email, admin, ..
    } = g.command
    else {
        panic!("not create")
    };
    assert_eq!(
        (name.as_str(), email.as_deref(), admin),
        ("alice", Some("alice@example.com"), true)
    );
    assert!(parse(&["user", "create", "alice"]).is_err());
    assert!(parse(&["user", "reset-password", "alice"]).is_err());
    assert!(parse(&["user", "create", "alice", "--password", "x"]).is_err());
}

#[test]
fn member_roles_are_the_contract_values() {
    let app::Command::Member(g) = parsed(&["member", "set", "team", "alice", "--role", "editor"])
    else {
        panic!("not member")
    };
    let app::workspaces::MemberCommand::Set {
        workspace,
        user,
        role,
    } = g.command
    else {
        panic!("not set")
    };
    assert_eq!(
        (workspace.resolve().unwrap().as_str(), user.as_str(), role),
        ("team", "alice", Role::Editor)
    );

    let error = parse(&["member", "set", "team", "alice", "--role", "owner"]).unwrap_err();
    assert!(error.to_string().contains("`viewer`"), "{error}");
    assert!(parse(&["member", "set", "team", "alice"]).is_err());
}

#[test]
fn registry_scope_and_kind() {
    let app::Command::Registry(g) = parsed(&["registry", "list", "--workspace", "team"]) else {
        panic!("not registry")
    };
    let app::registries::RegistryCommand::List { scope } = g.command else {
        panic!("not list")
    };
    assert_eq!(scope.workspace.as_deref(), Some("team"));

    let app::Command::Registry(g) = parsed(&[
        "registry",
        "add",
        "mirror",
        "--kind",
        "harbor",
        "--url",
        "https://harbor.test",
        "--insecure",
    ]) else {
        panic!("not registry")
    };
    let app::registries::RegistryCommand::Add {
        kind,
        insecure,
        scope,
        password_stdin,
        ..
    } = g.command
    else {
        panic!("not add")
    };
    assert_eq!(kind, berth_client::RegistryKind::Harbor);
    assert!(insecure && !password_stdin);
    assert_eq!(scope.workspace, None);
    assert!(parse(&["registry", "add", "m", "--kind", "quay", "--url", "u"]).is_err());

    let app::Command::Registry(g) = parsed(&["registry", "update", "m", "--insecure", "false"])
    else {
        panic!("not registry")
    };
    let app::registries::RegistryCommand::Update { insecure, url, .. } = g.command else {
        panic!("not update")
    };
    assert_eq!((insecure, url), (Some(false), None));
}

#[test]
fn spaces_default_to_the_hosted_registry_and_take_explicit_booleans_on_update() {
    let app::Command::Space(g) = parsed(&["space", "create", "team", "--public"]) else {
        panic!("not space")
    };
    let app::spaces::SpaceCommand::Create {
        name,
        registry,
        public,
        ..
    } = g.command
    else {
        panic!("not create")
    };
    assert_eq!(
        (name.as_str(), registry.registry.as_str(), public),
        ("team", "hosted", true)
    );

    let app::Command::Space(g) = parsed(&["space", "update", "team", "--public", "false"]) else {
        panic!("not space")
    };
    let app::spaces::SpaceCommand::Update { public, .. } = g.command else {
        panic!("not update")
    };
    assert_eq!(public, Some(false));
    assert!(parse(&["space", "update", "team", "--public", "maybe"]).is_err());
}

#[test]
fn bind_set_replaces_the_set_and_may_empty_it() {
    let app::Command::Bind(g) = parsed(&["bind", "set", "team", "a", "b", "--registry", "r"])
    else {
        panic!("not bind")
    };
    let app::spaces::BindCommand::Set {
        space,
        workspaces,
        registry,
    } = g.command
    else {
        panic!("not set")
    };
    assert_eq!((space.as_str(), registry.registry.as_str()), ("team", "r"));
    assert_eq!(workspaces, ["a", "b"]);
    let app::Command::Bind(g) = parsed(&["bind", "set", "team"]) else {
        panic!("not bind")
    };
    assert!(
        matches!(g.command, app::spaces::BindCommand::Set { workspaces, .. } if workspaces.is_empty())
    );
    assert!(
        parse(&["bind", "add", "team"]).is_err(),
        "add needs a workspace"
    );
    assert!(
        parse(&["bind", "remove", "team"]).is_err(),
        "remove needs a workspace"
    );
}

#[test]
fn robots_need_a_permission_and_take_human_durations() {
    let app::Command::Robot(g) = parsed(&[
        "robot",
        "create",
        "team",
        "ci",
        "--pull",
        "--expires-in",
        "30d",
    ]) else {
        panic!("not robot")
    };
    let app::robots::RobotCommand::Create {
        pull,
        push,
        expires_in,
        ..
    } = g.command
    else {
        panic!("not create")
    };
    assert_eq!((pull, push, expires_in), (true, false, Some(30 * 86_400)));
    assert!(parse(&["robot", "create", "team", "ci"]).is_err());
    assert!(parse(&[
        "robot",
        "create",
        "team",
        "ci",
        "--push",
        "--expires-in",
        "1y"
    ])
    .is_err());
    assert!(parse(&["robot", "create", "team", "ci", "--pull", "--push"]).is_ok());
}

// --- The workspace convention ----------------------------------------------------------------

/// The workspace a parsed command acts in, resolved as the command resolves it; `None` for a
/// command that takes none, the error's message when it is given wrongly.
fn workspace_of(line: &str) -> Result<Option<String>, String> {
    use app::images::ImageCommand as Image;
    use app::robots::RobotCommand as Robot;
    use app::workspaces::MemberCommand as Member;
    let args: Vec<&str> = line.split_whitespace().collect();
    let resolved = match parsed(&args) {
        app::Command::Images(g) => match g.command {
            Image::List(a) => a.workspace.resolve(),
            Image::Show(a) => a.repository.workspace.resolve(),
            Image::Tags(a) => a.repository.workspace.resolve(),
            Image::Delete(a) => a.repository.workspace.resolve(),
            Image::Upload(a) => Ok(a.workspace),
        },
        app::Command::Select(c) => c.args.workspace.resolve_with(c.args.query).map(|(w, _)| w),
        app::Command::Robot(g) => match g.command {
            Robot::List { workspace } | Robot::Create { workspace, .. } => workspace.resolve(),
            Robot::Disable(r) | Robot::Enable(r) | Robot::Delete(r) => r.workspace.resolve(),
        },
        app::Command::Member(g) => match g.command {
            Member::List { workspace }
            | Member::Set { workspace, .. }
            | Member::Remove { workspace, .. } => workspace.resolve(),
        },
        app::Command::Scan(c) => c.args.image.workspace.resolve(),
        app::Command::Vulns(c) => c.args.image.workspace.resolve(),
        app::Command::Sbom(c) => c.args.image.workspace.resolve(),
        app::Command::Push(c) => Ok(c.args.workspace),
        app::Command::PullSecret(c) => Ok(c.args.workspace),
        app::Command::Audit(c) => return Ok(c.args.workspace),
        app::Command::Registry(g) => {
            use app::registries::RegistryCommand as R;
            return Ok(match g.command {
                R::List { scope }
                | R::Add { scope, .. }
                | R::Show { scope, .. }
                | R::Update { scope, .. }
                | R::Delete { scope, .. }
                | R::Check { scope, .. }
                | R::Sync { scope, .. }
                | R::Status { scope, .. } => scope.workspace,
            });
        }
        app::Command::Space(g) => match g.command {
            app::spaces::SpaceCommand::List { workspace, .. } => return Ok(workspace),
            other => panic!("{other:?} takes no workspace"),
        },
        _ => panic!("berth {line} takes no workspace"),
    };
    resolved.map(Some).map_err(|e| e.to_string())
}

/// How many words of a command line name the command: one for a command without
/// subcommands (`select`), two for the others (`images list`).
fn command_depth(words: &[&str]) -> usize {
    if [
        "select",
        "push-command",
        "pull-secret",
        "audit",
        "scan",
        "vulns",
        "sbom",
    ]
    .contains(&words[0])
    {
        1
    } else {
        2
    }
}

/// Every command that acts inside a workspace, spelled with `--workspace team-a` where the
/// `{}` is (the commands that take it as an option only).
const WORKSPACE_OPTION_ONLY: &[&str] = &[
    "images upload my-image.tar {} --space team-a",
    "push-command {} --space team-a",
    "pull-secret {} --namespace apps --name regcred",
    "audit {}",
    "registry list {}",
    "registry add mirror --kind oci --url http://mirror.test {}",
    "registry show mirror {}",
    "registry update mirror --description d {}",
    "registry delete mirror {}",
    "registry check mirror {}",
    "registry sync mirror {} --wait",
    "registry status mirror {}",
    "space list {}",
];

/// The commands that took the workspace as their first positional argument: `{}` stands where
/// the option goes, and `{ws}` where the positional did.
const WORKSPACE_OPTION_OR_POSITIONAL: &[&str] = &[
    "images list {ws} {} --tag 1.0",
    "images show {ws} team-a/app {} --tag 1.0",
    "images tags {ws} team-a/app {} -q 1.",
    "images delete {ws} team-a/app {} --tag 1.0",
    "select {ws} app:1.0 {}",
    "scan {ws} team-a/app:1.0 {} --wait",
    "vulns {ws} team-a/app:1.0 {} --severity high",
    "sbom {ws} team-a/app:1.0 {}",
    "robot list {ws} {}",
    "robot create {ws} ci {} --pull --push",
    "robot disable {ws} ci {}",
    "robot enable {ws} ci {}",
    "robot delete {ws} ci {}",
    "member list {ws} {}",
    "member set {ws} alice {} --role editor",
    "member remove {ws} alice {}",
];

#[test]
fn every_workspace_command_takes_dash_dash_workspace_or_dash_w() {
    let option_only = WORKSPACE_OPTION_ONLY.iter();
    let either = WORKSPACE_OPTION_OR_POSITIONAL.iter();
    for shape in option_only.chain(either) {
        let shape = shape.replace("{ws} ", "");
        for option in ["--workspace team-a", "-w team-a"] {
            let line = shape.replace("{}", option);
            assert_eq!(
                workspace_of(&line),
                Ok(Some("team-a".into())),
                "berth {line}"
            );
        }
        // The option may stand anywhere among the command's own arguments.
        let first = shape.replace("{}", "");
        let words: Vec<&str> = first.split_whitespace().collect();
        let at = command_depth(&words);
        let line = [&words[..at], &["-w", "team-a"], &words[at..]]
            .concat()
            .join(" ");
        assert_eq!(
            workspace_of(&line),
            Ok(Some("team-a".into())),
            "berth {line}"
        );
    }
}

#[test]
fn the_older_positional_workspace_still_works_but_not_together_with_the_option() {
    for shape in WORKSPACE_OPTION_OR_POSITIONAL {
        let old = shape.replace("{ws}", "team-a").replace("{}", "");
        assert_eq!(workspace_of(&old), Ok(Some("team-a".into())), "berth {old}");

        let both = shape
            .replace("{ws}", "team-a")
            .replace("{}", "--workspace team-b");
        let error = workspace_of(&both).unwrap_err();
        assert!(
            error.contains("given twice") && error.contains("team-a") && error.contains("team-b"),
            "berth {both}: {error}"
        );

        // `select`'s lone positional is its workspace; its own test covers it.
        if !shape.starts_with("select") {
            let neither = shape.replace("{ws} ", "").replace("{}", "");
            let error = workspace_of(&neither).unwrap_err();
            assert!(error.contains("--workspace"), "berth {neither}: {error}");
        }
    }
    for shape in WORKSPACE_OPTION_ONLY {
        let line = shape.replace("{}", "team-a");
        assert!(
            parse(&line.split_whitespace().collect::<Vec<_>>()).is_err(),
            "berth {line}"
        );
    }
}

#[test]
fn the_other_positionals_keep_their_places_either_way() {
    let robot_name = |line: &str| {
        let args: Vec<&str> = line.split_whitespace().collect();
        let app::Command::Robot(g) = parsed(&args) else {
            panic!("not robot")
        };
        match g.command {
            app::robots::RobotCommand::Create { name, .. } => name,
            app::robots::RobotCommand::Delete(robot) => robot.name,
            other => panic!("{other:?}"),
        }
    };
    for line in [
        "robot create team-a ci --pull",
        "robot create ci --pull -w team-a",
        "robot create -w team-a ci --pull",
        "robot create ci --workspace team-a --pull",
        "robot delete team-a ci",
        "robot delete ci -w team-a",
    ] {
        assert_eq!(robot_name(line), "ci", "berth {line}");
    }

    let repository = |line: &str| {
        let args: Vec<&str> = line.split_whitespace().collect();
        let app::Command::Images(g) = parsed(&args) else {
            panic!("not images")
        };
        let app::images::ImageCommand::Show(show) = g.command else {
            panic!("not show")
        };
        (show.repository.repository, show.tag)
    };
    for line in [
        "images show team-a team-a/app --tag 1.0",
        "images show team-a/app --tag 1.0 -w team-a",
        "images show -w team-a team-a/app --tag 1.0",
    ] {
        assert_eq!(
            repository(line),
            ("team-a/app".into(), Some("1.0".into())),
            "berth {line}"
        );
    }

    // `select`'s query is optional too, so a lone positional is the query with --workspace
    // and the workspace without it, as it always was.
    let select = |line: &str| {
        let args: Vec<&str> = line.split_whitespace().collect();
        let app::Command::Select(c) = parsed(&args) else {
            panic!("not select")
        };
        c.args
            .workspace
            .resolve_with(c.args.query)
            .map_err(|e| e.to_string())
    };
    let both = Ok(("team-a".to_string(), Some("app:1.0".to_string())));
    assert_eq!(select("select team-a app:1.0"), both);
    assert_eq!(select("select -w team-a app:1.0"), both);
    assert_eq!(select("select app:1.0 -w team-a"), both);
    assert_eq!(select("select app:1.0 --limit 5 --workspace team-a"), both);
    let everything = Ok(("team-a".to_string(), None));
    assert_eq!(select("select team-a"), everything);
    assert_eq!(select("select team-a --limit 5"), everything);
    assert_eq!(select("select -w team-a"), everything);
    assert!(select("select team-a app:1.0 -w team-b")
        .unwrap_err()
        .contains("given twice"));
    assert!(select("select").unwrap_err().contains("no workspace"));
}

#[test]
fn help_names_every_positional_and_one_workspace_option() {
    use clap::CommandFactory;
    /// Every command below `command`, with its path.
    fn walk(command: &clap::Command, path: String, out: &mut Vec<(String, clap::Command)>) {
        for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
            let path = format!("{path} {}", sub.get_name()).trim().to_string();
            out.push((path.clone(), sub.clone()));
            walk(sub, path, out);
        }
    }
    let mut commands = Vec::new();
    walk(&Berth::command(), String::new(), &mut commands);
    let mut with_option = Vec::new();
    for (path, command) in &commands {
        for arg in command.get_arguments() {
            if arg.is_positional() {
                assert!(
                    arg.get_help().is_some(),
                    "`berth {path} --help` does not say what {} is",
                    arg.get_id()
                );
            }
            if arg.get_long() == Some("workspace") {
                assert_eq!(arg.get_short(), Some('w'), "berth {path}");
                let names: Vec<&str> = arg
                    .get_value_names()
                    .unwrap()
                    .iter()
                    .map(|n| n.as_str())
                    .collect();
                assert_eq!(names, ["WORKSPACE"], "berth {path}");
                with_option.push(path.clone());
            }
        }
    }
    let mut expected: Vec<String> = WORKSPACE_OPTION_ONLY
        .iter()
        .chain(WORKSPACE_OPTION_OR_POSITIONAL)
        .map(|shape| {
            let words: Vec<&str> = shape.split_whitespace().collect();
            words[..command_depth(&words)].join(" ")
        })
        .collect();
    expected.sort();
    with_option.sort();
    assert_eq!(with_option, expected);
}

#[test]
fn every_noun_creates_with_create_and_add() {
    for (noun, verb) in [
        ("user", "create"),
        ("workspace", "create"),
        ("registry", "add"),
        ("space", "create"),
        ("robot", "create"),
    ] {
        use clap::CommandFactory;
        let root = Berth::command();
        let command = root.find_subcommand(noun).unwrap().find_subcommand(verb);
        let command = command.unwrap_or_else(|| panic!("berth {noun} {verb}"));
        let aliases: Vec<&str> = command.get_visible_aliases().collect();
        let other = if verb == "create" { "add" } else { "create" };
        assert_eq!(aliases, [other], "berth {noun} {verb}");
    }
    let app::Command::Registry(g) = parsed(&[
        "registry",
        "create",
        "mirror",
        "--kind",
        "oci",
        "--url",
        "http://mirror.test",
    ]) else {
        panic!("not registry")
    };
    assert!(matches!(
        g.command,
        app::registries::RegistryCommand::Add { name, .. } if name == "mirror"
    ));
    let app::Command::Workspace(g) = parsed(&["workspace", "add", "team-a"]) else {
        panic!("not workspace")
    };
    assert!(matches!(
        g.command,
        app::workspaces::WorkspaceCommand::Create { name, .. } if name == "team-a"
    ));
    // A member is added with `set`, which also changes a role; `add` says the first.
    let app::Command::Member(g) =
        parsed(&["member", "add", "alice", "-w", "team-a", "--role", "viewer"])
    else {
        panic!("not member")
    };
    assert!(matches!(
        g.command,
        app::workspaces::MemberCommand::Set { user, role: Role::Viewer, .. } if user == "alice"
    ));
}

#[test]
fn audit_filters_and_settings_changes() {
    let app::Command::Audit(c) = parsed(&[
        "audit",
        "--actor",
        "admin",
        "--action",
        "space.",
        "--since",
        "2026-01-31T12:00:00Z",
        "--workspace",
        "team",
        "--limit",
        "5",
    ]) else {
        panic!("not audit")
    };
    assert_eq!(c.args.actor.as_deref(), Some("admin"));
    assert_eq!(c.args.action.as_deref(), Some("space."));
    assert_eq!(c.args.since.as_deref(), Some("2026-01-31T12:00:00Z"));
    assert_eq!(c.args.workspace.as_deref(), Some("team"));
    assert_eq!(c.args.limit, Some(5));
    assert!(parse(&["audit", "--since", "yesterday"]).is_err());
    assert!(parse(&["audit", "--limit", "0"]).is_err());

    assert!(parse(&["settings", "set"]).is_err(), "set needs a change");
    let app::Command::Settings(g) = parsed(&["settings", "set", "--anonymous-pull", "true"]) else {
        panic!("not settings")
    };
    let app::admin::SettingsCommand::Set {
        anonymous_pull,
        auto_create_spaces,
    } = g.command
    else {
        panic!("not set")
    };
    assert_eq!((anonymous_pull, auto_create_spaces), (Some(true), None));
}

#[test]
fn durations_and_times() {
    use app::args::{parse_duration, parse_since};
    assert_eq!(parse_duration("3600s"), Ok(3600));
    assert_eq!(parse_duration("3600"), Ok(3600));
    assert_eq!(parse_duration("90m"), Ok(5400));
    assert_eq!(parse_duration("12h"), Ok(43_200));
    assert_eq!(parse_duration("30d"), Ok(2_592_000));
    assert_eq!(parse_duration("2w"), Ok(1_209_600));
    for bad in ["", "h", "0s", "5y", "1.5h", "-3h", "99999999999999999999s"] {
        assert!(parse_duration(bad).is_err(), "{bad:?} parsed");
    }

    assert_eq!(
        parse_since("2026-01-31T12:00:00+02:00").unwrap(),
        "2026-01-31T12:00:00+02:00"
    );
    let since = parse_since("1h").unwrap();
    let since = time::OffsetDateTime::parse(&since, &time::format_description::well_known::Rfc3339)
        .unwrap();
    let ago = time::OffsetDateTime::now_utc() - since;
    assert!(
        ago >= time::Duration::seconds(3599) && ago <= time::Duration::seconds(3660),
        "{ago}"
    );
}

#[test]
fn robots_are_named_short_or_full() {
    use app::args::robot_short_name;
    assert_eq!(robot_short_name("team", "ci"), "ci");
    assert_eq!(robot_short_name("team", "robot$team+ci"), "ci");
    // Another workspace's full name is left alone, so the server refuses it by name.
    assert_eq!(robot_short_name("team", "robot$other+ci"), "robot$other+ci");
}

#[test]
fn the_saved_token_goes_only_to_its_own_server() {
    use app::same_server;
    assert!(same_server(
        "http://berth.test:5050",
        "HTTP://Berth.Test:5050/"
    ));
    assert!(same_server("https://berth.test:443/", "https://berth.test"));
    assert!(!same_server(
        "http://berth.test:5050",
        "http://berth.test:5051"
    ));
    assert!(!same_server("http://berth.test", "https://berth.test"));
    assert!(!same_server("http://berth.test", "http://berth.test.evil"));
}

// --- Rendering -------------------------------------------------------------------------------

#[test]
fn cells_show_missing_values_booleans_and_lists_plainly() {
    assert_eq!(cell(None), "-");
    assert_eq!(cell(Some(&Value::Null)), "-");
    assert_eq!(cell(Some(&json!(""))), "-");
    assert_eq!(cell(Some(&json!(true))), "yes");
    assert_eq!(cell(Some(&json!(false))), "no");
    assert_eq!(cell(Some(&json!(42))), "42");
    assert_eq!(cell(Some(&json!(["pull", "push"]))), "pull, push");
    assert_eq!(cell(Some(&json!([]))), "-");
    // Text from the server cannot break the table or reach the terminal as escapes.
    assert_eq!(cell(Some(&json!("two\nlines\x1b[31m"))), "two lines [31m");
}

#[test]
fn lists_render_as_aligned_tables() {
    let workspaces = [
        json!({"name": "team", "description": "The team", "created_at": "2026-01-01T00:00:00Z", "members": 3}),
        json!({"name": "platform-tools", "description": null, "created_at": "2026-02-01T00:00:00Z", "members": 12}),
    ];
    assert_eq!(
        render_table(app::workspaces::WORKSPACE, &workspaces),
        "\
NAME             MEMBERS   DESCRIPTION   CREATED
team             3         The team      2026-01-01T00:00:00Z
platform-tools   12        -             2026-02-01T00:00:00Z
"
    );
    // An empty list still shows what would be there.
    assert_eq!(
        render_table(app::workspaces::MEMBER, &[]),
        "USERNAME   ROLE\n"
    );
}

#[test]
fn nested_fields_and_records() {
    let registry = json!({
        "name": "hosted", "kind": "oci", "url": "http://127.0.0.1:5050", "username": null,
        "insecure": false, "description": "Berth itself", "workspace": null,
        "has_password": false,
        "health": {"status": "reachable", "reason": null, "checked_at": null},
        "created_at": "2026-01-01T00:00:00Z"
    });
    assert_eq!(
        render_table(app::registries::REGISTRY, std::slice::from_ref(&registry)),
        "\
NAME     KIND   URL                     WORKSPACE   HEALTH      DESCRIPTION
hosted   oci    http://127.0.0.1:5050   -           reachable   Berth itself
"
    );
    let columns = [
        col("NAME", "name"),
        col("HEALTH", "health.status"),
        col("MISSING", "a.b"),
    ];
    assert_eq!(
        render_record(&columns, &registry),
        "NAME      hosted\nHEALTH    reachable\nMISSING   -\n"
    );
}

#[test]
fn robot_lists_have_no_secret_column_but_creation_shows_it() {
    let headers = |columns: &[app::output::Column]| -> Vec<&str> {
        columns.iter().map(|c| c.header).collect()
    };
    assert!(!headers(app::robots::ROBOT).contains(&"SECRET"));
    assert!(headers(app::robots::CREATED_ROBOT).contains(&"SECRET"));
    let robot = json!({
        "name": "robot$team+ci", "short_name": "ci", "workspace": "team",
        "permissions": ["pull", "push"], "expires_at": null, "disabled": false,
        "created_by": "admin", "created_at": "2026-01-01T00:00:00Z"
    });
    assert_eq!(
        render_table(app::robots::ROBOT, &[robot]),
        "\
NAME            PERMISSIONS   EXPIRES   DISABLED   CREATED BY   CREATED
robot$team+ci   pull, push    -         no         admin        2026-01-01T00:00:00Z
"
    );
}

#[test]
fn sizes_read_as_the_console_writes_them() {
    use app::output::human_size;
    // The console's `humanSize` (ui.js) gives these; JavaScript rounds halves upwards.
    for (bytes, shown) in [
        (0, "0 B"),
        (1, "1 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1280, "1.3 KiB"),
        (1536, "1.5 KiB"),
        (10 * 1024 - 52, "9.9 KiB"),
        (10 * 1024 - 51, "10.0 KiB"),
        (10 * 1024, "10 KiB"),
        (10 * 1024 + 512, "11 KiB"),
        (1024 * 1024 - 1, "1024 KiB"),
        (1024 * 1024, "1.0 MiB"),
        (3 * 1024 * 1024 * 1024 + 1, "3.0 GiB"),
        (5 << 40, "5.0 TiB"),
        (2048 << 40, "2048 TiB"),
        (u64::MAX, "16777216 TiB"),
    ] {
        assert_eq!(human_size(bytes), shown, "{bytes} bytes");
    }
}

#[test]
fn every_size_column_prints_human_sizes() {
    use app::images::{ARTIFACT, IMAGE, LAYER, REPOSITORY, TAG, UPLOADED};
    use app::output::Kind;
    for (name, columns) in [
        ("images list", IMAGE),
        ("repository", REPOSITORY),
        ("tags", TAG),
        ("artifact", ARTIFACT),
        ("layers", LAYER),
        ("upload", UPLOADED),
    ] {
        let sizes: Vec<_> = columns.iter().filter(|c| c.header == "SIZE").collect();
        assert_eq!(sizes.len(), 1, "{name}");
        assert_eq!(sizes[0].kind, Kind::Bytes, "{name}");
    }
    let tags = [
        json!({"name": "1.0", "digest": "sha256:a", "size": 1_572_864, "pushed_at": "t"}),
        json!({"name": "tiny", "digest": "sha256:b", "size": 700, "pushed_at": "t"}),
    ];
    let table = render_table(app::images::TAG, &tags);
    let at = table.find("SIZE").unwrap();
    let sizes: Vec<&str> = table
        .lines()
        .map(|line| line[at..].split("   ").next().unwrap())
        .collect();
    assert_eq!(sizes, ["SIZE", "1.5 MiB", "700 B"], "{table}");
    // A repository without a tagged artifact has no size, shown as any missing value is.
    let row = json!({"reference": "h/team/app", "size": null});
    assert!(
        render_record(app::images::IMAGE, &row).contains("SIZE         -\n"),
        "{}",
        render_record(app::images::IMAGE, &row)
    );
}

// --- The real binary against the real server -------------------------------------------------

/// What one run of `berth` did.
pub(crate) struct Run {
    success: bool,
    stdout: String,
    stderr: String,
}

/// Runs the real `berth` binary with its own configuration directory, and none of the
/// caller's `BERTH_*` variables, so the test neither reads nor overwrites a developer's login.
pub(crate) struct Berths<'a> {
    pub(crate) config_dir: &'a Path,
}

impl Berths<'_> {
    pub(crate) fn run(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_berth"));
        command
            .args(args)
            .env("BERTH_CONFIG_DIR", self.config_dir)
            .env_remove("BERTH_URL")
            .env_remove("BERTH_TOKEN")
            .env_remove("BERTH_PASSWORD")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("running berth");
        {
            use std::io::Write;
            let mut input = child.stdin.take().unwrap();
            if let Some(stdin) = stdin {
                input.write_all(stdin.as_bytes()).unwrap();
            }
        }
        let output = child.wait_with_output().unwrap();
        Run {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs a command that must succeed and answers its stdout.
    pub(crate) fn ok_with(&self, args: &[&str], stdin: Option<&str>) -> String {
        let run = self.run(args, stdin);
        assert!(
            run.success,
            "berth {} failed:\n{}{}",
            args.join(" "),
            run.stdout,
            run.stderr
        );
        run.stdout
    }

    pub(crate) fn ok(&self, args: &[&str]) -> String {
        self.ok_with(args, None)
    }

    /// Runs a command with `--output json` and parses what it printed.
    pub(crate) fn json(&self, args: &[&str]) -> Value {
        let args: Vec<&str> = args.iter().copied().chain(["--output", "json"]).collect();
        let stdout = self.ok(&args);
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("berth {}: {e}:\n{stdout}", args.join(" ")))
    }

    /// Runs a command that must fail, and answers the message after `error: `.
    pub(crate) fn fails(&self, args: &[&str]) -> String {
        let run = self.run(args, None);
        assert!(
            !run.success,
            "berth {} succeeded:\n{}",
            args.join(" "),
            run.stdout
        );
        assert!(
            run.stdout.is_empty(),
            "a failure printed on stdout: {}",
            run.stdout
        );
        let message = run
            .stderr
            .strip_prefix("error: ")
            .unwrap_or_else(|| panic!("stderr does not start with `error: `: {}", run.stderr));
        message.trim_end().to_string()
    }
}

/// The names in a JSON list's `items` under `key`.
fn names(list: &Value, key: &str) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|item| item[key].as_str().unwrap().to_string())
        .collect()
}

/// The error message the server itself gives for `request`, to compare with what the CLI
/// printed.
async fn server_message(request: reqwest::RequestBuilder) -> (u16, String) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let message = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|body| Some(body["error"]["message"].as_str()?.to_string()))
        .unwrap_or_else(|| panic!("{status} without the error envelope: {text:?}"));
    (status, message)
}

#[tokio::test]
async fn the_cli_sets_up_a_workspace_end_to_end() {
    let data = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    let server = BinaryServer::spawn(data.path(), None);
    let url = server.url.as_str();
    let berth = Berths {
        config_dir: config.path(),
    };
    let credentials = config.path().join("credentials.json");

    // Without a login or --server there is nothing to talk to.
    assert!(berth.fails(&["whoami"]).contains("berth login"));

    // A wrong password fails with the server's message and saves nothing.
    let run = berth.run(
        &["login", url, "--username", "admin", "--password-stdin"],
        Some("wrong\n"),
    );
    assert!(!run.success, "{}", run.stdout);
    let (status, expected) = server_message(
        crate::support::client()
            .post(format!("{url}/api/v1/auth/login"))
            .json(&json!({"username": "admin", "password": "wrong"})),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(run.stderr, format!("error: {expected}\n"));
    assert_eq!(run.stderr, "error: incorrect username or password\n");
    assert!(!credentials.exists());

    // Login saves {url, token}, readable only by the owner, and prints no token.
    let stdout = berth.ok_with(
        &["login", url, "--username", "admin", "--password-stdin"],
        Some(&format!("{ADMIN_PASSWORD}\n")),
    );
    assert!(stdout.contains("Logged in"), "{stdout}");
    let saved: Value = serde_json::from_slice(&std::fs::read(&credentials).unwrap()).unwrap();
    assert_eq!(saved["url"], url);
    let token = saved["token"].as_str().unwrap().to_string();
    assert!(!token.is_empty());
    assert!(!stdout.contains(&token));
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&credentials)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "credentials mode {mode:o}");
    }
    let http = crate::support::client();
    let admin = Client::new(url).unwrap().with_token(token.clone().into());

    let me = berth.json(&["whoami"]);
    assert_eq!(me["username"], "admin");
    assert_eq!(me["is_admin"], true);
    assert_eq!(me["kind"], "user");
    let table = berth.ok(&["whoami"]);
    assert!(table.starts_with("USERNAME"), "{table}");
    assert!(table.contains("admin"), "{table}");

    // Workspaces.
    let team = berth.json(&["workspace", "create", "team", "--description", "The team"]);
    assert_eq!(team["name"], "team");
    assert_eq!(team["description"], "The team");
    berth.ok(&["workspace", "create", "ops"]);
    let table = berth.ok(&["workspace", "list"]);
    assert!(table.starts_with("NAME "), "{table}");
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("team ") && l.contains("The team")),
        "{table}"
    );
    let list = berth.json(&["workspace", "list"]);
    assert!(names(&list, "name").contains(&"ops".to_string()), "{list}");
    assert_eq!(list["next_cursor"], Value::Null);
    let updated = berth.json(&["workspace", "update", "ops", "--description", "Operations"]);
    assert_eq!(updated["description"], "Operations");
    assert_eq!(
        berth.json(&["workspace", "show", "ops"])["description"],
        "Operations"
    );

    // A duplicate and an invalid name fail with exactly the server's message.
    let message = berth.fails(&["workspace", "create", "team"]);
    let (status, expected) = server_message(
        http.post(format!("{url}/api/v1/workspaces"))
            .bearer_auth(&token)
            .json(&json!({"name": "team"})),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(message, expected);
    let message = berth.fails(&["workspace", "create", "Not A Name"]);
    let (status, expected) = server_message(
        http.post(format!("{url}/api/v1/workspaces"))
            .bearer_auth(&token)
            .json(&json!({"name": "Not A Name"})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(message, expected);
    assert!(
        message.contains("name"),
        "the message names the field: {message}"
    );
    assert!(!berth.fails(&["workspace", "show", "nosuch"]).is_empty());

    // Users.
    let alice = berth.ok_with(
        &[
            "user",
            "create",
            "alice",
            "--password-stdin",
            "--email",
            "alice@example.com",
            "-o",
            "json",
        ],
        Some("alice-password-1\n"),
    );
    let alice: Value = serde_json::from_str(&alice).unwrap();
    assert_eq!(alice["username"], "alice");
    assert_eq!(alice["email"], "alice@example.com");
    assert_eq!(alice["is_admin"], false);
    assert!(alice.get("password").is_none(), "{alice}");
    assert!(berth.ok(&["user", "list"]).contains("alice@example.com"));
    let run = berth.run(
        &["user", "create", "alice", "--password-stdin"],
        Some("another-password\n"),
    );
    assert!(
        !run.success && run.stderr.starts_with("error: "),
        "{}",
        run.stderr
    );
    assert!(names(&berth.json(&["user", "list"]), "username").contains(&"alice".into()));
    assert_eq!(berth.json(&["user", "show", "alice"])["disabled"], false);
    assert_eq!(berth.json(&["user", "disable", "alice"])["disabled"], true);
    assert!(Client::new(url)
        .unwrap()
        .login("alice", "alice-password-1".into())
        .await
        .is_err());
    assert_eq!(berth.json(&["user", "enable", "alice"])["disabled"], false);
    berth.ok_with(
        &["user", "reset-password", "alice", "--password-stdin"],
        Some("alice-password-2\n"),
    );
    let session = Client::new(url)
        .unwrap()
        .login("alice", "alice-password-2".into())
        .await
        .expect("alice signs in with the new password");
    let alice_token = session.token.expose().to_string();
    let alice_client = Client::new(url).unwrap().with_token(session.token);

    // Membership.
    let member = berth.json(&["member", "set", "team", "alice", "--role", "editor"]);
    assert_eq!(member, json!({"username": "alice", "role": "editor"}));
    let table = berth.ok(&["member", "list", "team"]);
    assert!(
        table
            .lines()
            .any(|l| l.split_whitespace().eq(["alice", "editor"])),
        "{table}"
    );
    let me = alice_client.me().await.unwrap();
    assert_eq!(me.workspaces.len(), 1);
    assert_eq!(
        (me.workspaces[0].name.as_str(), me.workspaces[0].role),
        ("team", Role::Editor)
    );
    assert!(!berth
        .fails(&["member", "set", "team", "nobody", "--role", "viewer"])
        .is_empty());

    // Registries: hosted is always there and cannot be deleted.
    let registries = berth.json(&["registry", "list"]);
    assert!(
        names(&registries, "name").contains(&"hosted".into()),
        "{registries}"
    );
    assert!(berth.ok(&["registry", "list"]).contains("hosted"));
    assert_eq!(
        berth.json(&["registry", "show", "hosted"])["name"],
        "hosted"
    );
    assert!(!berth.fails(&["registry", "delete", "hosted"]).is_empty());
    let workspace_registries = berth.json(&["registry", "list", "--workspace", "team"]);
    assert_eq!(workspace_registries["items"], json!([]));

    // A platform registry: its password is sent from stdin and never shown, only that it is
    // set. Nothing listens on port 9 of loopback, so a check finds it unreachable.
    let mirror = berth.ok_with(
        &[
            "registry",
            "add",
            "mirror",
            "--kind",
            "distribution",
            "--url",
            "http://127.0.0.1:9",
            "--username",
            "puller",
            "--password-stdin",
            "--description",
            "A mirror",
            "-o",
            "json",
        ],
        Some("registry-password\n"),
    );
    assert!(!mirror.contains("registry-password"), "{mirror}");
    let mirror: Value = serde_json::from_str(&mirror).unwrap();
    assert_eq!(mirror["kind"], "distribution");
    assert_eq!(mirror["username"], "puller");
    assert_eq!(mirror["has_password"], true);
    assert_eq!(mirror["workspace"], Value::Null);
    let shown = berth.ok(&["registry", "show", "mirror"]);
    assert!(
        shown
            .lines()
            .any(|l| l.split_whitespace().eq(["PASSWORD", "SET", "yes"])),
        "{shown}"
    );
    assert!(!shown.contains("registry-password"));
    let checked = berth.json(&["registry", "check", "mirror"]);
    assert_eq!(checked["health"]["status"], "unreachable");
    assert!(checked["health"]["checked_at"].is_string(), "{checked}");
    let updated = berth.json(&[
        "registry",
        "update",
        "mirror",
        "--insecure",
        "true",
        "--description",
        "An insecure mirror",
    ]);
    assert_eq!(updated["insecure"], true);
    assert_eq!(updated["description"], "An insecure mirror");
    assert_eq!(
        updated["username"], "puller",
        "an update changes only what it names"
    );
    assert!(berth.ok(&["registry", "list"]).contains("mirror"));
    assert!(!berth
        .fails(&[
            "registry",
            "add",
            "mirror",
            "--kind",
            "oci",
            "--url",
            "http://127.0.0.1:9"
        ])
        .is_empty());
    berth.ok(&["registry", "delete", "mirror"]);
    assert!(!berth.ok(&["registry", "list"]).contains("mirror"));

    // A workspace registry is seen by its workspace only.
    let own = berth.json(&[
        "registry",
        "add",
        "team-mirror",
        "--kind",
        "oci",
        "--url",
        "http://127.0.0.1:9",
        "--workspace",
        "team",
    ]);
    assert_eq!(own["workspace"], "team");
    assert_eq!(own["has_password"], false);
    assert_eq!(
        names(
            &berth.json(&["registry", "list", "--workspace", "team"]),
            "name"
        ),
        ["team-mirror"]
    );
    assert!(!berth.ok(&["registry", "list"]).contains("team-mirror"));
    assert!(!berth
        .fails(&["registry", "show", "team-mirror", "--workspace", "ops"])
        .is_empty());
    assert_eq!(
        berth.json(&["registry", "show", "team-mirror", "--workspace", "team"])["kind"],
        "oci"
    );
    berth.ok(&["registry", "delete", "team-mirror", "--workspace", "team"]);
    assert_eq!(
        berth.json(&["registry", "list", "--workspace", "team"])["items"],
        json!([])
    );

    // A private space, bound to the team.
    let space = berth.json(&[
        "space",
        "create",
        "team-images",
        "--description",
        "Team images",
    ]);
    assert_eq!(space["registry"], "hosted");
    assert_eq!(space["public"], false);
    assert!(berth.ok(&["space", "list"]).contains("team-images"));
    assert!(!berth.fails(&["space", "create", "team-images"]).is_empty());
    assert!(alice_client
        .spaces("hosted", None)
        .await
        .unwrap()
        .items
        .iter()
        .all(|s| s.name != "team-images"));
    assert_eq!(
        berth.json(&["bind", "set", "team-images", "team"]),
        json!({"workspaces": ["team"]})
    );
    assert!(berth
        .ok(&["bind", "list", "team-images"])
        .lines()
        .any(|l| l.trim() == "team"));
    let both = berth.json(&["bind", "add", "team-images", "ops"]);
    let mut bound: Vec<&str> = both["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    bound.sort_unstable();
    assert_eq!(bound, ["ops", "team"]);
    assert_eq!(
        berth.json(&["bind", "remove", "team-images", "ops"]),
        json!({"workspaces": ["team"]})
    );
    // An unknown workspace is refused by name and nothing changes.
    assert!(berth
        .fails(&["bind", "add", "team-images", "nosuch"])
        .contains("nosuch"));
    assert_eq!(
        berth.json(&["bind", "list", "team-images"]),
        json!({"workspaces": ["team"]})
    );
    let shown = berth.json(&["space", "show", "team-images"]);
    assert_eq!(shown["bound_workspaces"], json!(["team"]));
    let bound = berth.json(&["space", "list", "--workspace", "team"]);
    assert_eq!(names(&bound, "name"), ["team-images"]);
    assert!(
        berth.json(&["space", "list", "--workspace", "ops"])["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["name"] != "team-images")
    );
    // Alice now sees the space through her workspace.
    assert!(alice_client
        .workspace_spaces("team", None)
        .await
        .unwrap()
        .items
        .iter()
        .any(|s| s.name == "team-images"));
    assert_eq!(
        berth.json(&["space", "update", "team-images", "--public", "true"])["public"],
        true
    );
    assert_eq!(
        berth.json(&["space", "update", "team-images", "--public", "false"])["public"],
        false
    );

    // A robot: the secret is printed once, with a warning, and works.
    let run = berth.run(
        &[
            "robot",
            "create",
            "team",
            "ci",
            "--pull",
            "--push",
            "--expires-in",
            "30d",
        ],
        None,
    );
    assert!(run.success, "{}", run.stderr);
    assert!(run.stdout.contains("robot$team+ci"), "{}", run.stdout);
    assert!(
        run.stderr.contains("will not be shown again"),
        "{}",
        run.stderr
    );
    let secret_line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("SECRET"))
        .expect("a SECRET line");
    let secret = secret_line.split_whitespace().nth(1).unwrap().to_string();
    let robot = Client::new(url)
        .unwrap()
        .with_basic("robot$team+ci", secret.clone().into());
    let robot_me = robot
        .me()
        .await
        .expect("the robot signs in with its secret");
    assert_eq!(robot_me.kind, berth_client::SubjectKind::Robot);

    let created = berth.json(&["robot", "create", "team", "reader", "--pull"]);
    assert_eq!(created["name"], "robot$team+reader");
    assert_eq!(created["permissions"], json!(["pull"]));
    assert!(created["secret"].as_str().is_some_and(|s| !s.is_empty()));
    let table = berth.ok(&["robot", "list", "team"]);
    assert!(
        table.contains("robot$team+ci") && table.contains("robot$team+reader"),
        "{table}"
    );
    assert!(!table.contains(&secret), "a list printed a secret");
    let robots = berth.json(&["robot", "list", "team"]);
    assert!(
        !robots.to_string().contains(&secret),
        "a list printed a secret"
    );
    assert!(robots["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r.get("secret").is_none()));
    let listed = admin.robots("team", None).await.unwrap();
    let ci = listed.items.iter().find(|r| r.short_name == "ci").unwrap();
    assert_eq!(ci.permissions, [Permission::Pull, Permission::Push]);
    assert!(ci.expires_at.is_some());
    assert_eq!(
        berth.json(&["robot", "disable", "team", "ci"])["disabled"],
        true
    );
    assert!(robot.me().await.is_err(), "a disabled robot still signs in");
    assert_eq!(
        berth.json(&["robot", "enable", "team", "robot$team+ci"])["disabled"],
        false
    );
    assert!(!berth
        .fails(&["robot", "create", "team", "ci", "--pull"])
        .is_empty());
    berth.ok(&["robot", "delete", "team", "reader"]);
    assert!(!berth.ok(&["robot", "list", "team"]).contains("reader"));

    // Settings.
    let settings = berth.json(&["settings", "show"]);
    assert!(settings["anonymous_pull"].is_boolean(), "{settings}");
    assert!(settings["auto_create_spaces"].is_boolean(), "{settings}");
    let flipped = !settings["anonymous_pull"].as_bool().unwrap();
    let changed = berth.json(&["settings", "set", "--anonymous-pull", &flipped.to_string()]);
    assert_eq!(changed["anonymous_pull"], flipped);
    assert_eq!(
        changed["auto_create_spaces"],
        settings["auto_create_spaces"]
    );
    assert!(berth.ok(&["settings", "show"]).contains("ANONYMOUS PULL"));
    let restored = berth.json(&[
        "settings",
        "set",
        "--anonymous-pull",
        &(!flipped).to_string(),
    ]);
    assert_eq!(restored, settings);

    // The audit log has every change above, newest first, and its filters work.
    let audit = berth.json(&["audit"]);
    let events = audit["items"].as_array().unwrap();
    assert!(events.len() >= 10, "{audit}");
    assert!(events
        .iter()
        .any(|e| e["target"].as_str().is_some_and(|t| t.contains("team"))));
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(
        ids.windows(2).all(|w| w[0] > w[1]),
        "not newest first: {ids:?}"
    );
    assert_eq!(
        berth.json(&["audit", "--limit", "3"])["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let by_admin = berth.json(&["audit", "--actor", "admin", "--since", "1h"]);
    assert!(!by_admin["items"].as_array().unwrap().is_empty());
    assert!(by_admin["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["actor"] == "admin"));
    let action = events[0]["action"].as_str().unwrap();
    let same = berth.json(&["audit", "--action", action]);
    assert!(same["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["action"] == action));
    let in_team = berth.json(&["audit", "--workspace", "team"]);
    assert!(!in_team["items"].as_array().unwrap().is_empty());
    assert!(in_team["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["workspace"] == "team"));
    let table = berth.ok(&["audit", "--limit", "5"]);
    assert!(table.starts_with("AT "), "{table}");
    assert_eq!(table.lines().count(), 6, "{table}");
    let future = berth.json(&["audit", "--since", "2999-01-01T00:00:00Z"]);
    assert_eq!(future["items"], json!([]));

    // Lists follow `next_cursor`: reading two events per request finds the same events as
    // reading them all at once, and a maximum stops early with a cursor to go on from.
    let everything = admin.audit(&Default::default(), None).await.unwrap();
    let paged = admin
        .clone()
        .with_page_size(2)
        .audit(&Default::default(), None)
        .await
        .unwrap();
    let ids = |list: &berth_client::Page<berth_client::AuditEvent>| -> Vec<i64> {
        list.items.iter().map(|e| e.id).collect()
    };
    assert!(everything.items.len() > 4);
    assert_eq!(ids(&paged), ids(&everything));
    assert_eq!(paged.next_cursor, None);
    assert_eq!(paged.total, everything.total);
    let first = admin
        .clone()
        .with_page_size(2)
        .audit(&Default::default(), Some(3))
        .await
        .unwrap();
    assert_eq!(ids(&first), ids(&everything)[..3]);
    assert!(first.next_cursor.is_some());
    let run = berth.run(&["audit", "--limit", "2"], None);
    assert!(run.stderr.contains("showing 2 of"), "{}", run.stderr);

    // A non-admin is refused with the server's message; --token wins over the saved login.
    let message = berth.fails(&["user", "list", "--server", url, "--token", &alice_token]);
    let (status, expected) = server_message(
        http.get(format!("{url}/api/v1/users"))
            .bearer_auth(&alice_token),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(message, expected);

    // Cleanup through the CLI, then the saved session is forgotten.
    berth.ok(&["robot", "delete", "team", "ci"]);
    berth.ok(&["member", "remove", "team", "alice"]);
    assert!(!berth.ok(&["member", "list", "team"]).contains("alice"));
    berth.ok(&["space", "delete", "team-images"]);
    assert!(!berth.fails(&["space", "show", "team-images"]).is_empty());
    berth.ok(&["user", "delete", "alice"]);
    berth.ok(&["workspace", "delete", "ops"]);
    assert!(!berth.ok(&["workspace", "list"]).contains("ops"));
    assert!(berth.ok(&["logout"]).contains("Logged out"));
    assert!(!credentials.exists());
    assert!(
        berth.fails(&["whoami", "--server", url]).len() > 1,
        "anonymous whoami"
    );
    server.kill();
}

/// A fresh server run by the binary (with its data directory), and a configuration directory
/// whose saved login is the admin's on it.
fn admin_signed_in() -> (BinaryServer, tempfile::TempDir, tempfile::TempDir) {
    let data = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    let server = BinaryServer::spawn(data.path(), None);
    Berths {
        config_dir: config.path(),
    }
    .ok_with(
        &["login", &server.url, "-u", "admin", "--password-stdin"],
        Some(&format!("{ADMIN_PASSWORD}\n")),
    );
    (server, data, config)
}

/// The flows a new user following the README tripped on: `--workspace` on every command that
/// acts inside a workspace (and the older positional spelling beside it), `create` and `add`
/// for every noun, and `space list` across every registry.
#[tokio::test]
async fn the_cli_takes_the_workspace_as_an_option_and_lists_every_registrys_spaces() {
    let (server, _data, config) = admin_signed_in();
    let berth = Berths {
        config_dir: config.path(),
    };

    // Every noun creates with `create` and with `add`.
    berth.ok(&["workspace", "add", "team-a"]);
    berth.ok(&["workspace", "create", "team-b"]);
    berth.ok(&["space", "add", "team-a"]);
    berth.ok(&["bind", "set", "team-a", "team-a"]);
    let mirror = berth.json(&[
        "registry",
        "create",
        "mirror",
        "--kind",
        "distribution",
        "--url",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(mirror["name"], "mirror");
    berth.ok(&[
        "space",
        "create",
        "cache",
        "--registry",
        "mirror",
        "--public",
    ]);
    berth.ok_with(
        &["user", "add", "alice", "--password-stdin"],
        Some("alice-password-1\n"),
    );

    // `space list` lists every registry's spaces unless told which.
    let spaces = |args: &[&str]| -> Vec<String> {
        let list = berth.json(&[&["space", "list"][..], args].concat());
        let items = list["items"].as_array().unwrap();
        assert_eq!(list["total"], items.len(), "{list}");
        items
            .iter()
            .map(|s| {
                format!(
                    "{}/{}",
                    s["registry"].as_str().unwrap(),
                    s["name"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(
        spaces(&[]),
        ["hosted/library", "hosted/team-a", "mirror/cache"]
    );
    assert_eq!(spaces(&["--registry", "mirror"]), ["mirror/cache"]);
    assert_eq!(
        spaces(&["--registry", "hosted"]),
        ["hosted/library", "hosted/team-a"]
    );
    assert_eq!(spaces(&["--workspace", "team-a"]), ["hosted/team-a"]);
    assert_eq!(
        spaces(&["-w", "team-a", "--registry", "hosted"]),
        ["hosted/team-a"]
    );
    assert!(spaces(&["-w", "team-a", "--registry", "mirror"]).is_empty());
    let table = berth.ok(&["space", "list"]);
    assert!(
        table
            .lines()
            .any(|l| l.split_whitespace().take(2).eq(["mirror", "cache"])),
        "{table}"
    );
    assert!(berth
        .fails(&["space", "list", "--registry", "nosuch"])
        .contains("nosuch"));

    // Robots: the option, or the older positional, but not both.
    let created = berth.json(&["robot", "create", "ci", "--workspace", "team-a", "--pull"]);
    assert_eq!(created["name"], "robot$team-a+ci");
    let created = berth.json(&["robot", "create", "team-a", "reader", "--pull"]);
    assert_eq!(created["name"], "robot$team-a+reader");
    let robots = berth.json(&["robot", "list", "-w", "team-a"]);
    assert_eq!(
        names(&robots, "name"),
        ["robot$team-a+ci", "robot$team-a+reader"]
    );
    assert_eq!(berth.json(&["robot", "list", "team-a"]), robots);
    let message = berth.fails(&["robot", "create", "team-a", "x", "-w", "team-b", "--pull"]);
    assert_eq!(
        message,
        "the workspace is given twice, as the argument `team-a` and with --workspace team-b; \
         give it once"
    );
    assert_eq!(
        berth.fails(&["robot", "list"]),
        "no workspace given: name it with --workspace <WORKSPACE> (-w)"
    );
    assert_eq!(
        berth.json(&["robot", "disable", "ci", "-w", "team-a"])["disabled"],
        true
    );
    assert_eq!(
        berth.json(&["robot", "enable", "team-a", "ci"])["disabled"],
        false
    );
    berth.ok(&["robot", "delete", "reader", "--workspace", "team-a"]);
    berth.ok(&["robot", "delete", "team-a", "ci"]);
    assert_eq!(
        berth.json(&["robot", "list", "-w", "team-a"])["items"],
        json!([])
    );

    // Members, the same way.
    let member = berth.json(&["member", "add", "alice", "--role", "viewer", "-w", "team-a"]);
    assert_eq!(member, json!({"username": "alice", "role": "viewer"}));
    berth.ok(&["member", "set", "team-a", "alice", "--role", "editor"]);
    let members = berth.json(&["member", "list", "--workspace", "team-a"]);
    assert!(members["items"]
        .as_array()
        .unwrap()
        .contains(&json!({"username": "alice", "role": "editor"})));
    berth.ok(&["member", "remove", "alice", "-w", "team-a"]);
    assert!(!berth.ok(&["member", "list", "team-a"]).contains("alice"));

    // The image list and the selector, which the README's reader tried first.
    let listed = berth.json(&["images", "list", "--workspace", "team-a"]);
    assert_eq!(berth.json(&["images", "list", "team-a"]), listed);
    assert!(berth
        .ok(&["images", "list", "-w", "team-a"])
        .starts_with("REFERENCE"));
    assert!(berth
        .ok(&["select", "-w", "team-a"])
        .starts_with("REFERENCE"));

    // The optional workspace scopes take -w too.
    assert_eq!(
        berth.json(&["registry", "list", "-w", "team-a"])["items"],
        json!([])
    );
    let in_team = berth.json(&["audit", "-w", "team-a"]);
    let events = in_team["items"].as_array().unwrap();
    assert!(!events.is_empty());
    assert!(
        events.iter().all(|e| e["workspace"] == "team-a"),
        "{in_team}"
    );
    server.kill();
}
