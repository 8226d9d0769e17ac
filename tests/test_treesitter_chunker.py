"""The tree-sitter chunker: definitions with their comments and dotted symbols in twenty languages, the code
between them, long definitions split where statements start, and the files it leaves to the fallback chunker.

Each language has a small realistic sample below with the chunks a reader would pick:
(first line, symbol, kind). A test skips when tree-sitter or the language's grammar
wheel is not installed (``pip install 'aurora-search[treesitter]'``).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import without_modules, write
from test_chunker_plugins import configure, index_with, stored

import aurora_treesitter
from aurora.host.registry import PluginHost
from aurora.plugin import Chunk, ChunkSettings
from aurora_treesitter import grammars

#: The samples below are written for definitions merging within 6 lines, small enough that most stay
#: apart and each language's symbols can be checked one by one; the default (20) merges more.
OPTIONS = {key: option.default for key, option in aurora_treesitter.aurora_describe().options.items()} | {
    "merge_lines": 6
}


def chunk(text: str, language: str, max_lines: int = 150, **options: int) -> list[Chunk] | None:
    """Chunk ``text`` with the plugin's hook, skipping the test when the language's grammar is not installed."""
    pytest.importorskip("tree_sitter")
    pytest.importorskip(grammars.GRAMMARS[language][0])
    settings = ChunkSettings(max_chunk_lines=max_lines)
    return aurora_treesitter.aurora_chunk(text=text, language=language, settings=settings, options=OPTIONS | options)


def outline(chunks: list[Chunk] | None) -> list[tuple[int, str | None, str]]:
    """Return each chunk's first line, symbol and kind."""
    assert chunks is not None
    return [(c.line_start, c.symbol, c.kind) for c in chunks]


def assert_well_formed(chunks: list[Chunk], text: str, max_lines: int = 150) -> None:
    """Check what the host relies on: chunks in line order, not overlapping, within the longest, text = their lines."""
    lines = text.split("\n")
    previous_end = 0
    for c in chunks:
        assert previous_end < c.line_start <= c.line_end <= len(lines), c[:2]
        assert c.line_end - c.line_start + 1 <= max_lines, c[:2]
        assert c.text == "\n".join(lines[c.line_start - 1 : c.line_end])
        assert c.text.strip() and lines[c.line_start - 1].strip() and lines[c.line_end - 1].strip()
        previous_end = c.line_end


SAMPLES = {
    "python": (
        r'''"""Tools for sending requests."""

import json

RETRIES = 3


# Base class for every client.
class Client:
    """Sends requests."""

    timeout = 10

    def __init__(self, base):
        self.base = base

    @property
    def url(self):
        return self.base + "/"

    async def send(self, payload):
        """Send one payload."""
        return json.dumps(payload)


@cache
def connect(base):
    return Client(base)


if __name__ == "__main__":
    connect("x")
''',
        [
            (1, None, "module"),
            (8, "Client", "class"),
            (14, "Client.__init__, Client.url", "method"),
            (21, "Client.send", "method"),
            (26, "connect", "function"),
            (31, None, "module"),
        ],
    ),
    "javascript": (
        r"""'use strict';

const http = require('http');

/**
 * Sends requests.
 */
class Client {
  constructor(base) {
    this.base = base;
  }

  async send(payload) {
    const body = JSON.stringify(payload);
    return http.request(this.base, body);
  }

  static create(base) {
    return new Client(base);
  }
}

// Connects to a server.
function connect(base) {
  return Client.create(base);
}

const retry = async (fn, times) => {
  for (let i = 0; i < times; i++) {
    try { return await fn(); } catch (e) { if (i === times - 1) throw e; }
  }
};

module.exports = { Client, connect, retry };
""",
        [
            (1, None, "module"),
            (5, "Client", "class"),
            (9, "Client.constructor", "method"),
            (13, "Client.send", "method"),
            (18, "Client.create", "method"),
            (23, "connect", "function"),
            (28, "retry", "function"),
            (34, None, "module"),
        ],
    ),
    "typescript": (
        r"""import { Request } from "./request";

/** Options of a client. */
export interface ClientOptions {
  base: string;
  timeout?: number;
}

export type Handler = (req: Request) => Promise<void>;

export enum Method {
  Get = "GET",
  Post = "POST",
}

@Injectable()
export class Client {
  private readonly options: ClientOptions;

  constructor(options: ClientOptions) {
    this.options = options;
  }

  /** Sends one request. */
  @Log()
  async send(req: Request): Promise<Response> {
    return fetch(this.options.base, { method: req.method });
  }
}

export function connect(base: string): Client {
  return new Client({ base });
}

export const handle: Handler = async (req) => {
  await connect("x").send(req);
};

namespace Internal {
  export function helper(): number {
    return 1;
  }
}
""",
        [
            (1, None, "module"),
            (3, "ClientOptions", "interface"),
            (9, "Handler", "type"),
            (11, "Method", "enum"),
            (16, "Client", "class"),
            (20, "Client.constructor", "method"),
            (24, "Client.send", "method"),
            (31, "connect", "function"),
            (35, "handle", "function"),
            (39, "Internal", "module"),
        ],
    ),
    "tsx": (
        r"""import React from "react";

interface ButtonProps {
  label: string;
}

// A button that says hello.
export function Button({ label }: ButtonProps) {
  return <button className="btn">{label}</button>;
}

export const Panel = (props: { title: string }) => (
  <div>
    <h1>{props.title}</h1>
  </div>
);

export default class App extends React.Component {
  render() {
    return <Panel title="x" />;
  }
}
""",
        [
            (1, None, "module"),
            (3, "ButtonProps", "interface"),
            (7, "Button", "function"),
            (12, "Panel", "function"),
            (18, "App", "class"),
        ],
    ),
    "go": (
        r"""// Package client talks to the API.
package client

import (
    "fmt"
    "net/http"
)

const defaultTimeout = 30

// Client sends requests.
type Client struct {
    base string
    http *http.Client
}

// Doer is anything that can do a request.
type Doer interface {
    Do(req *http.Request) (*http.Response, error)
}

// Do sends one request.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
    resp, err := c.http.Do(req)
    if err != nil {
        return nil, fmt.Errorf("do: %w", err)
    }
    return resp, nil
}

func (c Client) Base() string { return c.base }

// New makes a client.
func New(base string) *Client {
    return &Client{base: base, http: &http.Client{}}
}

var registry = map[string]*Client{}
""",
        [
            (1, None, "module"),
            (11, "Client", "struct"),
            (17, "Doer", "interface"),
            (22, "Client.Do", "method"),
            (31, "Client.Base", "method"),
            (33, "New", "function"),
            (38, None, "module"),
        ],
    ),
    "rust": (
        r"""//! Shapes and their areas.
use std::fmt;

/// A point on the plane.
#[derive(Debug, Clone)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

pub trait Shape {
    fn area(&self) -> f64;
}

impl Point {
    /// Makes a point.
    pub fn new(x: f64, y: f64) -> Self {
        Point { x, y }
    }

    pub fn norm(&self) -> f64 {
        (self.x * self.x + self.y * self.y).sqrt()
    }
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {})", self.x, self.y)
    }
}

pub enum Kind {
    Circle,
    Square,
}

mod tests {
    #[test]
    fn norm_of_origin() {
        assert_eq!(super::Point::new(0.0, 0.0).norm(), 0.0);
    }
}

fn main() {
    println!("{}", Point::new(1.0, 2.0));
}
""",
        [
            (1, None, "module"),
            (4, "Point", "struct"),
            (11, "Shape", "trait"),
            (15, "impl Point", "impl"),
            (16, "Point.new", "method"),
            (21, "Point.norm", "method"),
            (26, "impl fmt.Display for Point", "impl"),
            (32, "Kind", "enum"),
            (37, "tests", "module"),
            (44, "main", "function"),
        ],
    ),
    "java": (
        r"""package com.example.client;

import java.util.List;

/**
 * Sends requests.
 */
@Service
public class Client implements Sender {
    private final String base;

    public Client(String base) {
        this.base = base;
    }

    /** Sends one request. */
    @Override
    public Response send(Request request) {
        return transport.execute(base, request);
    }

    public static class Builder {
        private String base;

        public Builder base(String base) {
            this.base = base;
            return this;
        }
    }
}

interface Sender {
    Response send(Request request);
}

enum Method { GET, POST }

record Pair(String left, String right) {}
""",
        [
            (1, None, "module"),
            (5, "Client", "class"),
            (12, "Client.Client", "method"),
            (16, "Client.send", "method"),
            (22, "Client.Builder", "class"),
            (25, "Client.Builder.base", "method"),
            (32, "Sender", "interface"),
            (36, "Method", "enum"),
            (38, "Pair", "class"),
        ],
    ),
    "kotlin": (
        r"""package com.example.client

import kotlinx.coroutines.delay

/** Sends requests. */
class Client(private val base: String) : Sender {
    private val retries = 3

    // Sends one request.
    override suspend fun send(request: Request): Response {
        delay(10)
        return transport.execute(base, request)
    }

    companion object {
        fun create(base: String) = Client(base)
    }
}

interface Sender {
    suspend fun send(request: Request): Response
}

data class Request(val method: String)

object Registry {
    val clients = mutableListOf<Client>()
}

enum class Method { GET, POST }

fun connect(base: String): Client = Client.create(base)

val defaultClient = connect("x")
""",
        [
            (1, None, "module"),
            (5, "Client", "class"),
            (9, "Client.send", "method"),
            (15, "Client", "class"),
            (16, "Client.create", "method"),
            (20, "Sender", "interface"),
            (24, "Request", "class"),
            (26, "Registry", "object"),
            (30, "Method", "enum"),
            (32, "connect", "function"),
            (34, None, "module"),
        ],
    ),
    "scala": (
        r"""package example.client

import scala.concurrent.Future

/** Sends requests. */
trait Sender {
  def send(request: Request): Future[Response]
}

// The default client.
class Client(base: String) extends Sender {
  private val retries = 3

  override def send(request: Request): Future[Response] =
    transport.execute(base, request)

  def close(): Unit = ()
}

object Client {
  def apply(base: String): Client = new Client(base)
}

case class Request(method: String)

enum Method:
  case Get, Post

def connect(base: String): Client = Client(base)

val default = connect("x")
""",
        [
            (1, None, "module"),
            (5, "Sender", "trait"),
            (10, "Client", "class"),
            (14, "Client.send, Client.close", "method"),
            (20, "Client", "object"),
            (24, "Request", "class"),
            (26, "Method", "enum"),
            (29, "connect", "function"),
            (31, None, "module"),
        ],
    ),
    "c": (
        r"""/* client.c: sends requests. */
#include <stdio.h>
#include "client.h"

#define MAX_RETRIES 3

struct client {
    const char *base;
    int timeout;
};

typedef struct {
    int code;
    char *body;
} response_t;

enum method { GET, POST };

static int counter = 0;

/* Sends one request. */
int client_send(struct client *c, const char *payload)
{
    counter++;
    return printf("%s %s\n", c->base, payload);
}

#ifdef DEBUG
static void client_dump(const struct client *c)
{
    fprintf(stderr, "%s\n", c->base);
}
#endif

struct client *client_new(const char *base) {
    return NULL;
}
""",
        [
            (1, None, "module"),
            (7, "client", "struct"),
            (12, "response_t", "struct"),
            (17, "method", "enum"),
            (19, None, "module"),
            (21, "client_send", "function"),
            (29, "client_dump", "function"),
            (35, "client_new", "function"),
        ],
    ),
    "cpp": (
        r"""#include <string>
#include <vector>

namespace net {

// Sends requests.
class Client : public Sender {
public:
    explicit Client(std::string base) : base_(std::move(base)) {}

    // Sends one request.
    Response send(const Request& request) override {
        return transport_.execute(base_, request);
    }

    ~Client() = default;

private:
    std::string base_;
};

template <typename T>
T clamp(T value, T low, T high) {
    return value < low ? low : (value > high ? high : value);
}

Response Client::retry(const Request& request, int times) {
    for (int i = 0; i < times; ++i) {
        send(request);
    }
    return {};
}

struct Options {
    int timeout = 30;
};

}  // namespace net

int main() {
    net::Client client("x");
    return 0;
}
""",
        [
            (1, None, "module"),
            (6, "Client", "class"),
            (9, "Client.Client, Client.send", "method"),
            (16, "Client.~Client", "method"),
            (18, "Client", "class"),
            (22, "clamp", "function"),
            (27, "Client.retry", "method"),
            (34, "Options", "struct"),
            (38, None, "module"),
            (40, "main", "function"),
        ],
    ),
    "csharp": (
        r"""using System;
using System.Threading.Tasks;

namespace Example.Client
{
    /// <summary>Sends requests.</summary>
    [Serializable]
    public class Client : ISender
    {
        private readonly string _base;

        public Client(string @base)
        {
            _base = @base;
        }

        /// <summary>Sends one request.</summary>
        public async Task<Response> SendAsync(Request request)
        {
            return await Transport.ExecuteAsync(_base, request);
        }

        public string Base => _base;
    }

    public interface ISender
    {
        Task<Response> SendAsync(Request request);
    }

    public struct Point { public int X; public int Y; }

    public enum Method { Get, Post }

    public record Request(string Method);
}
""",
        [
            (1, None, "module"),
            (6, "Client", "class"),
            (12, "Client.Client", "method"),
            (17, "Client.SendAsync", "method"),
            (23, "Client", "class"),
            (26, "ISender", "interface"),
            (31, "Point", "struct"),
            (33, "Method", "enum"),
            (35, "Request", "class"),
        ],
    ),
    "swift": (
        r"""import Foundation

/// Sends requests.
public final class Client: Sender {
    private let base: String

    public init(base: String) {
        self.base = base
    }

    // Sends one request.
    @discardableResult
    public func send(_ request: Request) async throws -> Response {
        return try await transport.execute(base, request)
    }
}

public protocol Sender {
    func send(_ request: Request) async throws -> Response
}

struct Point {
    var x: Double
    var y: Double
}

enum Method {
    case get, post
}

extension Client {
    func close() {}
}

func connect(_ base: String) -> Client {
    return Client(base: base)
}

let defaultClient = connect("x")
""",
        [
            (1, None, "module"),
            (3, "Client", "class"),
            (7, "Client.init", "method"),
            (11, "Client.send", "method"),
            (18, "Sender", "interface"),
            (22, "Point", "struct"),
            (27, "Method", "enum"),
            (31, "extension Client", "impl"),
            (35, "connect", "function"),
            (39, None, "module"),
        ],
    ),
    "php": (
        r"""<?php

namespace App\Http;

use GuzzleHttp\Client as Guzzle;

/**
 * Sends requests.
 */
#[Attribute]
class Client implements Sender
{
    private string $base;

    public function __construct(string $base)
    {
        $this->base = $base;
    }

    /** Sends one request. */
    public function send(Request $request): Response
    {
        return $this->transport->execute($this->base, $request);
    }
}

interface Sender
{
    public function send(Request $request): Response;
}

trait Retries
{
    public function retry(callable $fn, int $times): mixed
    {
        return $fn();
    }
}

enum Method: string
{
    case Get = 'GET';
}

function connect(string $base): Client
{
    return new Client($base);
}

$client = connect('x');
""",
        [
            (1, None, "module"),
            (7, "Client", "class"),
            (15, "Client.__construct", "method"),
            (20, "Client.send", "method"),
            (27, "Sender", "interface"),
            (32, "Retries", "trait"),
            (34, "Retries.retry", "method"),
            (40, "Method", "enum"),
            (45, "connect", "function"),
            (50, None, "module"),
        ],
    ),
    "ruby": (
        r"""# frozen_string_literal: true

require "json"

module Http
  # Sends requests.
  class Client < Base
    attr_reader :base

    def initialize(base)
      @base = base
    end

    # Sends one request.
    def send_request(payload)
      JSON.dump(payload)
    end

    def self.create(base)
      new(base)
    end
  end

  def self.connect(base)
    Client.create(base)
  end
end

def main
  Http.connect("x")
end

main if $PROGRAM_NAME == __FILE__
""",
        [
            (1, None, "module"),
            (5, "Http", "module"),
            (6, "Http.Client", "class"),
            (10, "Http.Client.initialize", "method"),
            (14, "Http.Client.send_request", "method"),
            (19, "Http.Client.create", "method"),
            (24, "Http.connect", "function"),
            (29, "main", "function"),
            (33, None, "module"),
        ],
    ),
    "elixir": (
        r'''defmodule Http.Client do
  @moduledoc """
  Sends requests.
  """

  alias Http.Transport

  defstruct [:base, timeout: 30]

  @doc "Sends one request."
  @spec send_request(t(), map()) :: {:ok, term()} | {:error, term()}
  def send_request(%__MODULE__{base: base}, payload) do
    Transport.execute(base, payload)
  end

  def method(:get), do: "GET"
  def method(:post), do: "POST"

  defp retry(fun, 0), do: fun.()

  defp retry(fun, times) do
    fun.()
  rescue
    _ -> retry(fun, times - 1)
  end

  defmacro with_client(do: block) do
    quote do: unquote(block)
  end
end

defprotocol Http.Sender do
  def send(sender, payload)
end
''',
        [
            (1, "Http.Client", "module"),
            (10, "Http.Client.send_request", "function"),
            (16, "Http.Client.method", "function"),
            (19, "Http.Client.retry", "function"),
            (27, "Http.Client.with_client", "macro"),
            (32, "Http.Sender", "interface"),
        ],
    ),
    "haskell": (
        r"""{-# LANGUAGE OverloadedStrings #-}
module Http.Client
  ( Client (..)
  , sendRequest
  ) where

import qualified Data.Text as T

-- | A client of the API.
data Client = Client
  { base :: T.Text
  , timeout :: Int
  }

class Sender a where
  send :: a -> T.Text -> IO ()

instance Sender Client where
  send c payload = putStrLn (T.unpack payload)

-- | Sends one request.
sendRequest :: Client -> T.Text -> IO ()
sendRequest client payload = do
  send client payload
  pure ()

retry :: Int -> IO a -> IO a
retry 0 action = action
retry n action = action

type Url = T.Text

newtype Port = Port Int
""",
        [
            (1, None, "module"),
            (9, "Client", "type"),
            (15, "Sender", "class"),
            (18, "instance Sender Client", "impl"),
            (21, "sendRequest", "function"),
            (27, "retry", "function"),
            (31, "Url, Port", "type"),
        ],
    ),
    "lua": (
        r"""-- Sends requests.
local M = {}

local DEFAULT_TIMEOUT = 30

--- Makes a client.
function M.new(base)
  return setmetatable({ base = base }, { __index = M })
end

-- Sends one request.
function M:send(payload)
  return transport.execute(self.base, payload)
end

local function retry(fn, times)
  for i = 1, times do
    local ok, res = pcall(fn)
    if ok then return res end
  end
end

M.connect = function(base)
  return M.new(base)
end

return M
""",
        [
            (1, None, "module"),
            (6, "M.new", "function"),
            (11, "M.send", "method"),
            (16, "retry", "function"),
            (23, "M.connect", "function"),
            (27, None, "module"),
        ],
    ),
    "zig": (
        r"""const std = @import("std");

/// Sends requests.
pub const Client = struct {
    base: []const u8,

    /// Makes a client.
    pub fn init(base: []const u8) Client {
        return .{ .base = base };
    }

    pub fn send(self: *Client, payload: []const u8) !void {
        std.debug.print("{s} {s}\n", .{ self.base, payload });
    }
};

pub const Method = enum { get, post };

// Connects to a server.
pub fn connect(base: []const u8) Client {
    return Client.init(base);
}

test "connect" {
    const c = connect("x");
    try std.testing.expect(c.base.len == 1);
}
""",
        [
            (1, None, "module"),
            (3, "Client", "struct"),
            (7, "Client.init", "method"),
            (12, "Client.send", "method"),
            (17, "Method", "enum"),
            (19, "connect", "function"),
            (24, 'test "connect"', "function"),
        ],
    ),
    "shell": (
        r"""#!/usr/bin/env bash
set -euo pipefail

BASE_URL="${BASE_URL:-http://localhost}"

# Sends one request.
send_request() {
  local payload="$1"
  curl -s -d "$payload" "$BASE_URL"
}

function retry {
  local times=$1
  shift
  for ((i = 0; i < times; i++)); do
    "$@" && return 0
  done
  return 1
}

retry 3 send_request '{"a": 1}'
""",
        [(1, None, "module"), (6, "send_request", "function"), (12, "retry", "function"), (21, None, "module")],
    ),
}


@pytest.mark.parametrize("language", SAMPLES)
def test_each_language_is_cut_into_its_definitions_with_dotted_symbols(language: str) -> None:
    text, expected = SAMPLES[language]
    chunks = chunk(text, language)
    assert outline(chunks) == expected
    assert_well_formed(chunks, text)


def test_describe_declares_every_language_a_version_and_what_it_needs() -> None:
    description = aurora_treesitter.aurora_describe()
    assert set(description.languages) == set(SAMPLES) == set(grammars.GRAMMARS)
    assert description.version == "3"
    assert description.requires == ("tree_sitter",)


@pytest.mark.parametrize(
    ("language", "symbol", "first_line"),
    [
        ("python", "Client", "# Base class for every client."),
        ("python", "connect", "@cache"),
        ("rust", "Point", "/// A point on the plane."),
        ("rust", "Point.new", "    /// Makes a point."),
        ("java", "Client.send", "    /** Sends one request. */"),
        ("typescript", "Client", "@Injectable()"),
        ("typescript", "Client.send", "  /** Sends one request. */"),
        ("go", "Client.Do", "// Do sends one request."),
        ("csharp", "Client", "    /// <summary>Sends requests.</summary>"),
        ("elixir", "Http.Client.send_request", '  @doc "Sends one request."'),
        ("haskell", "sendRequest", "-- | Sends one request."),
    ],
)
def test_comments_decorators_and_attributes_belong_to_the_definition_below(
    language: str, symbol: str, first_line: str
) -> None:
    text, _ = SAMPLES[language]
    first = next(c for c in chunk(text, language) if c.symbol == symbol)
    assert first.text.split("\n")[0] == first_line


def test_a_comment_attaches_across_one_blank_line_but_not_two_nor_from_the_end_of_a_code_line() -> None:
    text = (
        "import os  # for paths\n"
        "def first():\n"
        "    return os.sep\n"
        "\n"
        "# Joins paths.\n"
        "\n"
        "def second():\n"
        "    return 2\n"
        "\n"
        "\n"
        "# A note about nothing below.\n"
        "\n"
        "\n"
        "def third():\n"
        "    return 3\n"
    )
    chunks = chunk(text, "python", merge_lines=0)
    assert [(c.line_start, c.line_end, c.symbol, c.kind) for c in chunks] == [
        (1, 1, None, "module"),
        (2, 3, "first", "function"),
        (5, 8, "second", "function"),
        (11, 11, None, "module"),
        (14, 15, "third", "function"),
    ]


def test_code_between_definitions_gets_module_chunks_and_lone_closing_lines_none() -> None:
    text = 'package m\n\nimport "fmt"\n\nfunc A() {\n    fmt.Println()\n}\n\nvar registry = map[string]int{}\n'
    chunks = chunk(text, "go")
    assert [(c.text, c.symbol, c.kind) for c in chunks] == [
        ('package m\n\nimport "fmt"', None, "module"),
        ("func A() {\n    fmt.Println()\n}", "A", "function"),
        ("var registry = map[string]int{}", None, "module"),
    ]
    cpp = "namespace n {\nclass A {\n  public:\n    void f() {\n      g();\n      h();\n    }\n};\n}\n"
    assert [c.text for c in chunk(cpp, "cpp", merge_lines=0)] == [
        "namespace n {",
        "class A {\n  public:",
        "    void f() {\n      g();\n      h();\n    }",
    ]


def test_small_neighbours_merge_within_merge_lines_and_clauses_of_one_name_always() -> None:
    getters = (
        "package m\n\n"
        "func (c *C) Host() string { return c.host }\n"
        "func (c *C) Port() int { return c.port }\n"
        "func (c C) User() string { return c.user }\n"
    )
    assert outline(chunk(getters, "go"))[1:] == [(3, "C.Host, C.Port, C.User", "method")]
    assert outline(chunk(getters, "go", merge_lines=0))[1:] == [
        (3, "C.Host", "method"),
        (4, "C.Port", "method"),
        (5, "C.User", "method"),
    ]
    equations = "size :: Tree -> Int\nsize Leaf = 0\nsize (Node l r) =\n  size l\n    + size r\n    + 1\n"
    assert outline(chunk(equations, "haskell", merge_lines=0)) == [(1, "size", "function")]


def _long_function(language: str, statements: int) -> str:
    """Return a function of ``statements`` three-line statements in ``language`` (python or go)."""
    if language == "python":
        body = "".join(f"    value_{i} = compute(\n        {i},\n    )\n" for i in range(statements))
        return f"def handle(request):\n{body}    return request\n"
    body = "".join(f"    value{i} := compute(\n        {i},\n    )\n" for i in range(statements))
    return f"package m\n\nfunc Handle(request int) int {{\n{body}    return request\n}}\n"


@pytest.mark.parametrize(("language", "symbol"), [("python", "handle"), ("go", "Handle")])
def test_long_definition_is_split_where_statements_start_and_every_part_keeps_its_symbol(
    language: str, symbol: str
) -> None:
    text = _long_function(language, statements=60)
    chunks = [c for c in chunk(text, language, max_lines=50) if c.symbol == symbol]
    assert_well_formed(chunks, text, max_lines=50)
    assert len(chunks) == 4 and {c.kind for c in chunks} == {"function"}
    assert chunks[0].text.startswith(("def handle(", "func Handle("))
    assert chunks[-1].text.endswith(("    return request", "    return request\n}"))
    for before, part in zip(chunks, chunks[1:], strict=False):
        assert part.line_start == before.line_end + 1  # nothing lost between parts
        assert part.text.startswith("    value")  # a statement's first line, not the middle of one
    assert chunks[0].signature is None  # the first part shows its signature line itself
    assert {c.signature for c in chunks[1:]} == {chunks[0].text.split("\n")[0]}  # the others repeat it, indexed


def test_long_definition_without_statements_inside_is_cut_at_the_longest_chunk() -> None:
    text = "NAMES = [\n" + "".join(f'    "name{i}",\n' for i in range(120)) + "]\n"
    chunks = chunk(text, "python", max_lines=50)
    assert [(c.line_start, c.line_end) for c in chunks] == [(1, 50), (51, 100), (101, 122)]
    assert {(c.symbol, c.kind) for c in chunks} == {(None, "module")}


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        (
            "python",
            "def first():\n    return 1\n\n\ndef broken(:\n    return\n\n\ndef last():\n    return 3\n",
            ["first", "broken", "last"],
        ),
        (
            "java",
            "class A {\n    int first() {\n        return 1;\n    }\n\n    int broken( {\n        return;\n    }\n\n"
            "    int last() {\n        return 3;\n    }\n}\n",
            ["A", "A.first", "A.broken", "A.last"],
        ),
    ],
)
def test_a_syntax_error_still_yields_the_definitions_that_parse(language: str, text: str, expected: list[str]) -> None:
    chunks = chunk(text, language, merge_lines=0)
    assert [c.symbol for c in chunks] == expected
    assert_well_formed(chunks, text)


def test_text_that_is_mostly_errors_is_left_to_the_fallback() -> None:
    words = ["if", "(", "x", ")", "{", "}", "return", "function", "=", ";", "\n", "class", "+", "1", "."]
    soup = " ".join(random.Random(7).choice(words) for _ in range(5000))
    assert chunk(soup, "rust") is None


def test_minified_file_of_five_megabytes_is_left_to_the_fallback() -> None:
    body = ";".join(f"function f{i}(a,b){{return a+b*{i}}}" for i in range(200_000))
    minified = (body * (5_000_000 // len(body) + 1))[:5_000_000]
    assert chunk(minified, "javascript", max_chars=10_000_000) is None


@pytest.mark.parametrize("nul", [False, True])
def test_binary_file_misnamed_js_is_left_to_the_fallback(nul: bool) -> None:
    data = bytes(random.Random(3).randrange(256) for _ in range(200_000))
    if not nul:
        data = data.replace(b"\0", b"\1")  # past the host's NUL sniff, read as Windows-1252 like the host does
    assert chunk(data.decode("cp1252", errors="replace"), "javascript") is None


def test_file_longer_than_max_chars_is_left_to_the_fallback() -> None:
    text, _ = SAMPLES["go"]
    assert chunk(text, "go", max_chars=len(text) - 1) is None
    assert chunk(text, "go", max_chars=len(text)) is not None


def test_parse_that_runs_out_of_time_is_abandoned_and_the_next_file_parses_from_scratch() -> None:
    text = _long_function("go", statements=20_000)
    assert chunk(text, "go", timeout_ms=0) is None
    sample, expected = SAMPLES["go"]
    assert outline(chunk(sample, "go")) == expected


def test_deeply_nested_containers_are_chunked_without_deep_recursion() -> None:
    text = "mod a {\n" * 3000 + "fn f() {}\n" + "}\n" * 3000
    chunks = chunk(text, "rust")
    assert_well_formed(chunks, text)
    depths = [len(c.symbol.split(".")) for c in chunks]
    assert depths[0] == 1 and max(depths) < 100  # the innermost modules stay in one piece with their parent


def test_cpp_in_a_c_header_and_tsx_in_a_typescript_file_are_parsed_with_the_grammar_that_fits() -> None:
    header = (
        "#pragma once\n#include <string>\n\nnamespace net {\n\n"
        "// Sends requests.\nclass Client {\n public:\n  explicit Client(std::string base);\n"
        "  int send(const std::string& payload) const;\n\n private:\n  std::string base_;\n};\n\n}  // namespace net\n"
    )
    assert outline(chunk(header, "c")) == [(1, None, "module"), (6, "Client", "class"), (16, None, "module")]
    tsx, expected = SAMPLES["tsx"]
    assert outline(chunk(tsx, "typescript")) == expected


def test_the_marks_of_another_grammar_decide_which_grammar_parses_first(monkeypatch: pytest.MonkeyPatch) -> None:
    from aurora_treesitter import chunker as chunker_module

    parsed: list[str] = []
    real_parse = chunker_module.parse

    def recording_parse(source: bytes, language: str, timeout_ms: float):
        parsed.append(language)
        return real_parse(source, language, timeout_ms)

    monkeypatch.setattr(chunker_module, "parse", recording_parse)
    clean_c = "int f(void) {\n  return 1;\n}\n"
    assert chunk(clean_c, "c") and parsed == ["c"]  # clean in its own grammar: one parse
    parsed.clear()
    header = "namespace net {\nclass Client {\n public:\n  int send();\n};\n}\n"
    assert outline(chunk(header, "c")) == [(1, None, "module"), (2, "Client", "class")]
    assert parsed == ["cpp"]  # C++ marks: its grammar first, clean, so no C parse
    parsed.clear()
    unmarked = "struct Shape {\n  virtual double area() const = 0;\n  virtual ~Shape() = default;\n};\n"
    chunk(unmarked, "c")
    assert parsed == ["c", "cpp"]  # no marks, but errors in C: C++ is tried too
    parsed.clear()
    mixed = "using Id = int;\nint f(void) {\n  return 1 +;\n}\n"
    chunk(mixed, "c")
    assert parsed == ["cpp", "c"]  # the marked grammar found errors: the file's own is tried too
    parsed.clear()
    functions = "".join(f"int f{i}(void) {{\n  return {i};\n}}\n" for i in range(200))
    chunk(functions + "struct Shape {\n  virtual double area() const = 0;\n};\n", "c")
    assert parsed == ["c"]  # the C++ in it is under 1% of the file: not worth a second parse


def test_the_host_calls_it_registered_in_process() -> None:
    host = PluginHost()
    plugin = host.register(aurora_treesitter, "treesitter", "chunker")
    text, expected = SAMPLES["rust"]
    pytest.importorskip("tree_sitter_rust")
    chunks = host.call(
        plugin,
        "aurora_chunk",
        text=text,
        path="src/shapes.rs",
        language="rust",
        settings=ChunkSettings(),
        options=OPTIONS,
    )
    assert outline(chunks) == expected


def test_index_run_stores_its_chunks_and_identity(project: Path, isolated_env: Path) -> None:
    pytest.importorskip("tree_sitter_go")
    go, expected = SAMPLES["go"]
    write(project, {"client/client.go": go})
    configure(isolated_env, 'chunkers = ["treesitter", "markdown"]\n[chunkers.treesitter]\nmerge_lines = 6')
    index_with(project, "treesitter", aurora_treesitter, added=5)
    chunks, chunkers = stored(project)
    assert [(line_start, symbol, kind) for _, line_start, _, symbol, kind in chunks["client/client.go"]] == expected
    assert chunkers["client/client.go"] == chunkers["src/auth/tokens.py"] == "treesitter@3;merge_lines=6"


def test_a_chunker_option_out_of_range_is_a_one_line_error(project: Path, isolated_env: Path, cli) -> None:
    configure(isolated_env, "[chunkers.treesitter]\nmerge_lines = -1")
    done = cli("index", cwd=project)
    assert done.returncode == 2 and "chunkers.treesitter.merge_lines = -1: too small" in done.stderr
    assert "Traceback" not in done.stderr


def run_python(script: str, env: dict[str, str] | None = None) -> str:
    """Run ``script`` in a fresh interpreter after a preamble that defines ``chunk(text, language)``; return stdout."""
    preamble = (
        "import sys, aurora_treesitter\n"
        "from aurora.plugin import AuroraError, ChunkSettings\n"
        "OPTIONS = {key: option.default for key, option in aurora_treesitter.aurora_describe().options.items()}\n"
        "def chunk(text, language):\n"
        "    settings = ChunkSettings()\n"
        "    return aurora_treesitter.aurora_chunk(text=text, language=language, settings=settings, options=OPTIONS)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", preamble + script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_tree_sitter_is_imported_by_the_first_chunk_not_by_the_plugin() -> None:
    pytest.importorskip("tree_sitter_python")
    script = "print('tree_sitter' in sys.modules)\nchunk('x = 1\\n', 'python')\nprint('tree_sitter' in sys.modules)\n"
    assert run_python(script).split() == ["False", "True"]


def test_a_missing_grammar_wheel_is_named_with_the_command_that_installs_it(tmp_path: Path) -> None:
    pytest.importorskip("tree_sitter")
    script = (
        "try:\n"
        "    chunk('package m\\n', 'go')\n"
        "except AuroraError as error:\n"
        "    print(error.message, '|', error.hint)\n"
    )
    env = os.environ | without_modules(tmp_path, "tree_sitter_go")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [env["PYTHONPATH"], os.environ.get("PYTHONPATH")]))
    assert run_python(script, env).strip() == "the go grammar is not installed | pip install tree-sitter-go"


def test_parsers_are_made_once_per_language_and_thread() -> None:
    pytest.importorskip("tree_sitter_go")
    mine = grammars.parser("go")
    other = []
    thread = threading.Thread(target=lambda: other.append(grammars.parser("go")))
    thread.start()
    thread.join()
    assert grammars.parser("go") is mine and other[0] is not mine
    assert grammars.grammar("go") is grammars.grammar("go")
