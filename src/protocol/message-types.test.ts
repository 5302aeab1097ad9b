// Tests of message type ids, ranges and display names.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  MessageType,
  isCommand,
  isControl,
  isCustomEntry,
  isKnownCommand,
  isKnownMessageType,
  isKnownNotification,
  isNotification,
  messageTypeName,
} from "./message-types.ts";

test("ids match the protocol table", () => {
  assert.equal(MessageType.Start, 0x0000);
  assert.equal(MessageType.ProposeRunCompletionAck, 0x0007);
  assert.equal(MessageType.SendSignalCommand, 0x0410);
  assert.equal(MessageType.CompleteAwakeableCommand, 0x0414);
  assert.equal(MessageType.CallInvocationIdCompletion, 0x800e);
  assert.equal(MessageType.Signal, 0xfbff);
  assert.equal(new Set(Object.values(MessageType)).size, Object.values(MessageType).length, "no duplicate ids");
});

test("ranges", () => {
  for (const [name, id] of Object.entries(MessageType)) {
    const kind = name.endsWith("Command") ? "command" : id >= 0x8000 ? "notification" : "control";
    assert.equal(isCommand(id), kind === "command", name);
    assert.equal(isNotification(id), kind === "notification", name);
    assert.equal(isControl(id), kind === "control", name);
    assert.equal(isCustomEntry(id), false, name);
    assert.ok(isKnownMessageType(id));
  }
  assert.ok(isCommand(0x0400) && isCommand(0x7fff) && !isCommand(0x03ff) && !isCommand(0x8000));
  assert.ok(isNotification(0x8000) && isNotification(0xfbff) && !isNotification(0xfc00));
  assert.ok(isCustomEntry(0xfc00) && isCustomEntry(0xffff) && !isCustomEntry(0xfbff));
  assert.ok(isKnownCommand(0x0411) && !isKnownCommand(0x040f) && !isKnownCommand(0x8011));
  assert.ok(isKnownNotification(0x8011) && !isKnownNotification(0x8001) && !isKnownNotification(0x0411));
});

test("names follow sys_journal.entry_type", () => {
  assert.equal(messageTypeName(MessageType.InputCommand), "Command: Input");
  assert.equal(messageTypeName(MessageType.RunCommand), "Command: Run");
  assert.equal(messageTypeName(MessageType.OneWayCallCommand), "Command: OneWayCall");
  assert.equal(messageTypeName(MessageType.CompleteAwakeableCommand), "Command: CompleteAwakeable");
  assert.equal(messageTypeName(MessageType.SleepCompletion), "Notification: Sleep");
  assert.equal(messageTypeName(MessageType.CallInvocationIdCompletion), "Notification: CallInvocationId");
  assert.equal(messageTypeName(MessageType.RunCompletion), "Notification: Run");
  assert.equal(messageTypeName(MessageType.Signal), "Notification: Signal");
  assert.equal(messageTypeName(MessageType.Suspension), "Suspension");
  assert.equal(messageTypeName(0xfc01), "Custom: 0xFC01");
  assert.equal(messageTypeName(0x040f), "Unknown: 0x040F");
  for (const [name, id] of Object.entries(MessageType)) {
    if (name.endsWith("Command")) assert.equal(messageTypeName(id), `Command: ${name.slice(0, -"Command".length)}`);
  }
});
