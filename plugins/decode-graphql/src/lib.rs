//! GraphQL document decoder: operations, fields, arguments, variables, fragments
