// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {OrganizationRegistry} from "./OrganizationRegistry.sol";
import {Connections} from "./Connections.sol";

/// @title ReleaseRegistry
/// @notice One record per container release, keyed by the release's address. Confidential data
///         arrives sealed: `sealedData` is AES-256-GCM ciphertext, `wrappedKeys[party]` the data key
///         wrapped with each party's RSA key, `encryptedPin` the pincode wrapped for the current
///         owner and `pinForTerminal` the pincode wrapped for the terminal. The contract enforces the
///         rules of the SCR network on who may do what.
/// @dev `NotCreator` and `NotCurrentOwner` carry `action` = the selector of the refused function.
contract ReleaseRegistry {
    /// @dev `version` and `updatedAt` share a storage slot on purpose: `version` changes on every
    ///      write, so the gas of writing `updatedAt` does not depend on the block timestamp, and an
    ///      eth_estimateGas run on a pending block (same second as the last change) is not short.
    struct Release {
        address creator;
        uint32 version;
        uint64 updatedAt;
        address terminal;
        uint64 gateOut;
        bool blocked;
        bool deleted;
        bool pinRetrieved;
        uint64 createdAt;
        /// @dev owners[0] is the creator, the last one is the current owner
        address[] owners;
        bytes sealedData;
        bytes encryptedPin;
        bytes pinForTerminal;
        bytes assignment;
        bytes greenLights;
    }

    /// @notice The release id is the zero address.
    error InvalidReleaseId();
    /// @notice A release with this id already exists (or existed and was deleted).
    error ReleaseAlreadyExists(address id);
    /// @notice There is no release with this id.
    error ReleaseNotFound(address id);
    /// @notice The release was deleted by its creator; it can no longer change.
    error ReleaseIsDeleted(address id);
    /// @notice Only a registered carrier creates releases.
    error NotCarrier(address caller);
    /// @notice The given terminal is not a registered terminal organisation.
    error TerminalNotRegistered(address terminal);
    /// @notice Only the creator of the release may call `action`.
    error NotCreator(address id, address caller, bytes4 action);
    /// @notice Only the current owner of the release may call `action`.
    error NotCurrentOwner(address id, address caller, address owner, bytes4 action);
    /// @notice The recipient is not connected with the current owner.
    error NotConnected(address owner, address to);
    /// @notice The recipient is already in the ownership chain of the release.
    error AlreadyInChain(address id, address account);
    /// @notice The pincode was retrieved, so the release can no longer be transferred (or retrieved again).
    error PinAlreadyRetrieved(address id);
    /// @notice No pincode is wrapped for the current owner (after a revoke, until the carrier re-wraps it).
    error PinNotAvailable(address id);
    /// @notice Only an earlier owner in the chain (not the current owner) may revoke.
    error NotEarlierOwner(address id, address caller);
    /// @notice The release is already blocked.
    error ReleaseAlreadyBlocked(address id);
    /// @notice The release is not blocked.
    error ReleaseNotBlocked(address id);
    /// @notice The encrypted assignment is empty (use unassign to remove an assignment).
    error EmptyAssignment();
    /// @notice The release has no assignment.
    error NotAssigned(address id);
    /// @notice Only the release's terminal (any registered terminal when none is set) records a gate-out.
    error NotReleaseTerminal(address id, address caller, address terminal);
    /// @notice Only a registered terminal or port system sets green lights.
    error NotGreenLightsProvider(address caller);
    /// @notice `parties` and `wrappedKeys` differ in length.
    error LengthMismatch(uint256 parties, uint256 wrappedKeys);
    /// @notice A wrapped key was given for an account that is neither in the chain nor the terminal.
    error NotAParty(address id, address account);

    event ReleaseCreated(address indexed id, address indexed creator);
    event ReleaseUpdated(address indexed id);
    event ReleaseBlocked(address indexed id);
    event ReleaseUnblocked(address indexed id);
    event ReleaseDeleted(address indexed id);
    event ReleaseTransferred(address indexed id, address indexed from, address indexed to);
    event ReleaseRevoked(address indexed id, address indexed by, address indexed from);
    event PinRetrieved(address indexed id, address indexed by);
    event PinUpdated(address indexed id, bool rotated);
    event TerminalUpdated(address indexed id, address indexed terminal);
    event ReleaseAssigned(address indexed id, address indexed by);
    event ReleaseUnassigned(address indexed id, address indexed by);
    event GateOut(address indexed id, uint64 gateOutAt);
    event GreenLightsUpdated(address indexed id);

    OrganizationRegistry public immutable registry;
    Connections public immutable connections;

    mapping(address => Release) private _releases;
    mapping(address => mapping(address => bytes)) private _wrappedKeys;

    constructor(OrganizationRegistry registry_, Connections connections_) {
        registry = registry_;
        connections = connections_;
    }

    // ------------------------------------------------------------------ creator

    /// @notice Creates a release (registered carriers only). The caller becomes creator and owner.
    function create(
        address id,
        address terminal,
        bytes calldata sealedData,
        bytes calldata wrappedKeyForCreator,
        bytes calldata encryptedPinForCreator,
        bytes calldata pinForTerminal
    ) external {
        if (registry.roleOf(msg.sender) != OrganizationRegistry.Role.Carrier) revert NotCarrier(msg.sender);
        if (id == address(0)) revert InvalidReleaseId();
        Release storage r = _releases[id];
        if (r.creator != address(0)) revert ReleaseAlreadyExists(id);
        _checkTerminal(terminal);

        r.creator = msg.sender;
        r.terminal = terminal;
        r.owners.push(msg.sender);
        r.sealedData = sealedData;
        r.encryptedPin = encryptedPinForCreator;
        r.pinForTerminal = pinForTerminal;
        r.createdAt = uint64(block.timestamp);
        r.updatedAt = uint64(block.timestamp);
        r.version = 1;
        _wrappedKeys[id][msg.sender] = wrappedKeyForCreator;
        emit ReleaseCreated(id, msg.sender);
    }

    /// @notice Replaces the sealed data and the data key wrapped for the given parties (creator only).
    ///         Each party must be in the ownership chain or be the release's terminal.
    function update(address id, bytes calldata sealedData, address[] calldata parties, bytes[] calldata wrappedKeys)
        external
    {
        Release storage r = _byCreator(id);
        if (parties.length != wrappedKeys.length) revert LengthMismatch(parties.length, wrappedKeys.length);
        r.sealedData = sealedData;
        for (uint256 i = 0; i < parties.length; ++i) {
            address party = parties[i];
            if (party != r.terminal && !_inChain(r.owners, party)) revert NotAParty(id, party);
            _wrappedKeys[id][party] = wrappedKeys[i];
        }
        _touch(r);
        emit ReleaseUpdated(id);
    }

    function blockRelease(address id) external {
        Release storage r = _byCreator(id);
        if (r.blocked) revert ReleaseAlreadyBlocked(id);
        r.blocked = true;
        _touch(r);
        emit ReleaseBlocked(id);
    }

    function unblockRelease(address id) external {
        Release storage r = _byCreator(id);
        if (!r.blocked) revert ReleaseNotBlocked(id);
        r.blocked = false;
        _touch(r);
        emit ReleaseUnblocked(id);
    }

    /// @notice Deletes the release (creator only). Final: every later write reverts with ReleaseIsDeleted.
    function deleteRelease(address id) external {
        Release storage r = _byCreator(id);
        r.deleted = true;
        _touch(r);
        emit ReleaseDeleted(id);
    }

    /// @notice Wraps the pincode for the current owner (creator only), e.g. after a revoke.
    /// @param rotated true when the carrier changed the pincode because it had been retrieved;
    ///        resets `pinRetrieved`.
    function setPin(address id, bytes calldata encryptedPinForOwner, bool rotated) external {
        Release storage r = _byCreator(id);
        r.encryptedPin = encryptedPinForOwner;
        if (rotated) r.pinRetrieved = false;
        _touch(r);
        emit PinUpdated(id, rotated);
    }

    /// @notice Changes the terminal (zero = none) and the pincode wrapped for it (creator only).
    function setTerminal(address id, address terminal, bytes calldata pinForTerminal) external {
        Release storage r = _byCreator(id);
        _checkTerminal(terminal);
        r.terminal = terminal;
        r.pinForTerminal = pinForTerminal;
        _touch(r);
        emit TerminalUpdated(id, terminal);
    }

    // ------------------------------------------------------------------ owner

    /// @notice Transfers the release to `to`, a connection of the current owner that is not yet in
    ///         the chain (current owner only, and only while the pincode has not been retrieved).
    function transfer(address id, address to, bytes calldata wrappedKeyForTo, bytes calldata encryptedPinForTo)
        external
    {
        Release storage r = _live(id);
        address owner = _onlyOwner(r, id);
        if (r.pinRetrieved) revert PinAlreadyRetrieved(id);
        if (_inChain(r.owners, to)) revert AlreadyInChain(id, to);
        if (!connections.isConnected(owner, to)) revert NotConnected(owner, to);

        r.owners.push(to);
        _wrappedKeys[id][to] = wrappedKeyForTo;
        r.encryptedPin = encryptedPinForTo;
        _touch(r);
        emit ReleaseTransferred(id, owner, to);
    }

    /// @notice Marks the pincode as retrieved by the current owner.
    function markPinRetrieved(address id) external {
        Release storage r = _live(id);
        _onlyOwner(r, id);
        if (r.pinRetrieved) revert PinAlreadyRetrieved(id);
        if (r.encryptedPin.length == 0) revert PinNotAvailable(id);
        r.pinRetrieved = true;
        _touch(r);
        emit PinRetrieved(id, msg.sender);
    }

    /// @notice Assigns the release to a driver or barge (encrypted); replaces any earlier assignment.
    function assign(address id, bytes calldata encryptedAssignment) external {
        Release storage r = _live(id);
        _onlyOwner(r, id);
        if (encryptedAssignment.length == 0) revert EmptyAssignment();
        r.assignment = encryptedAssignment;
        _touch(r);
        emit ReleaseAssigned(id, msg.sender);
    }

    function unassign(address id) external {
        Release storage r = _live(id);
        _onlyOwner(r, id);
        if (r.assignment.length == 0) revert NotAssigned(id);
        delete r.assignment;
        _touch(r);
        emit ReleaseUnassigned(id, msg.sender);
    }

    // ------------------------------------------------------------------ earlier owner

    /// @notice An earlier owner takes the release back: the chain is cut after the caller. The
    ///         pincode wrapped for the former owner is cleared; the creator re-wraps it with setPin.
    function revoke(address id) external {
        Release storage r = _live(id);
        address[] storage owners = r.owners;
        uint256 last = owners.length - 1;
        address from = owners[last];
        uint256 index = last;
        for (uint256 i = 0; i < last; ++i) {
            if (owners[i] == msg.sender) {
                index = i;
                break;
            }
        }
        if (index == last) revert NotEarlierOwner(id, msg.sender);
        address terminal = r.terminal;
        for (uint256 j = last; j > index; --j) {
            address removed = owners[j];
            if (removed != terminal) delete _wrappedKeys[id][removed];
            owners.pop();
        }
        delete r.encryptedPin;
        _touch(r);
        emit ReleaseRevoked(id, msg.sender, from);
    }

    // ------------------------------------------------------------------ terminal / port

    /// @notice Records the gate-out time (unix seconds; 0 cancels an earlier gate-out).
    function recordGateOut(address id, uint64 gateOutAt) external {
        Release storage r = _live(id);
        address terminal = r.terminal;
        bool allowed = terminal == address(0)
            ? registry.roleOf(msg.sender) == OrganizationRegistry.Role.Terminal
            : msg.sender == terminal;
        if (!allowed) revert NotReleaseTerminal(id, msg.sender, terminal);
        r.gateOut = gateOutAt;
        _touch(r);
        emit GateOut(id, gateOutAt);
    }

    /// @notice Replaces the green lights (registered terminals and port systems only).
    function setGreenLights(address id, bytes calldata greenLights) external {
        Release storage r = _live(id);
        OrganizationRegistry.Role role = registry.roleOf(msg.sender);
        if (role != OrganizationRegistry.Role.Terminal && role != OrganizationRegistry.Role.PortSystem) {
            revert NotGreenLightsProvider(msg.sender);
        }
        r.greenLights = greenLights;
        _touch(r);
        emit GreenLightsUpdated(id);
    }

    // ------------------------------------------------------------------ views

    function exists(address id) external view returns (bool) {
        return _releases[id].creator != address(0);
    }

    /// @notice Everything about the release except the per-party wrapped keys.
    function getRelease(address id) external view returns (Release memory) {
        Release storage r = _releases[id];
        if (r.creator == address(0)) revert ReleaseNotFound(id);
        return r;
    }

    function getOwners(address id) external view returns (address[] memory) {
        return _existing(id).owners;
    }

    function ownerOf(address id) external view returns (address) {
        address[] storage owners = _existing(id).owners;
        return owners[owners.length - 1];
    }

    /// @notice The data key wrapped for `party` (empty when none).
    function wrappedKeyOf(address id, address party) external view returns (bytes memory) {
        return _wrappedKeys[id][party];
    }

    // ------------------------------------------------------------------ internals

    function _existing(address id) private view returns (Release storage r) {
        r = _releases[id];
        if (r.creator == address(0)) revert ReleaseNotFound(id);
    }

    function _live(address id) private view returns (Release storage r) {
        r = _existing(id);
        if (r.deleted) revert ReleaseIsDeleted(id);
    }

    function _byCreator(address id) private view returns (Release storage r) {
        r = _live(id);
        if (msg.sender != r.creator) revert NotCreator(id, msg.sender, msg.sig);
    }

    function _onlyOwner(Release storage r, address id) private view returns (address owner) {
        owner = r.owners[r.owners.length - 1];
        if (msg.sender != owner) revert NotCurrentOwner(id, msg.sender, owner, msg.sig);
    }

    function _checkTerminal(address terminal) private view {
        if (terminal != address(0) && registry.roleOf(terminal) != OrganizationRegistry.Role.Terminal) {
            revert TerminalNotRegistered(terminal);
        }
    }

    function _inChain(address[] storage owners, address account) private view returns (bool) {
        uint256 n = owners.length;
        for (uint256 i = 0; i < n; ++i) {
            if (owners[i] == account) return true;
        }
        return false;
    }

    function _touch(Release storage r) private {
        unchecked {
            ++r.version;
        }
        r.updatedAt = uint64(block.timestamp);
    }
}
